import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization
import TestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite(.serialized) struct URLSessionTransportTests {
    @Test func stormThenSuccessOverRealLoopbackHTTPThroughTheRetryMiddleware() async throws {
        let calls = Mutex(0)
        let server = try LoopbackServer { _ in
            let n = calls.withLock { $0 += 1; return $0 }
            if n < 3 {
                return .init(status: 503, headers: [("Retry-After", "2"), ("Content-Type", "text/html")], body: Data("<html><title>Down</title></html>".utf8))
            }
            return .init(status: 200, headers: [("Content-Type", "application/json"), ("Sforce-Limit-Info", "api-usage=3/5000")], body: Data(#"{"ok":true}"#.utf8))
        }
        defer { server.stop() }
        let clock = VirtualClock(mode: .autoAdvance)
        let recorder = EventRecorder()
        let pipeline = Pipeline(
            middleware: [RetryMiddleware(clock: clock, events: recorder.sink)],
            transport: URLSessionTransport())
        let request = HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("/services/data/v62.0/limits"))
        let response = try await pipeline.send(request, context: .forRequest(request))
        #expect(response.status == 200)
        #expect(response.headers["sforce-limit-info"] == "api-usage=3/5000")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
        #expect(server.requests.count == 3)
        #expect(recorder.events.compactMap(\.retryDelay) == [.seconds(2), .seconds(2)])
        #expect(clock.elapsed == .seconds(4))
    }

    @Test func connectionRefusedIsNeverSent() async throws {
        let server = try LoopbackServer { _ in .init(status: 200) }
        let url = server.baseURL
        server.stop()
        let error = await #expect(throws: TransportError.self) {
            try await URLSessionTransport().send(HTTPRequest(method: .post, url: url.appendingPathComponent("x")))
        }
        #expect(error?.delivery == .notSent)
        #expect(error?.kind == .connectionRefused)
        #expect(OutcomeClassifier().classify(error!) == .transientNetwork)
    }

    @Test func connectionDroppedAfterSendingIsAmbiguous() async throws {
        let server = try LoopbackServer { _ in .init(status: 0, dropConnection: true) }
        defer { server.stop() }
        let error = await #expect(throws: TransportError.self) {
            try await URLSessionTransport().send(HTTPRequest(method: .post, url: server.baseURL.appendingPathComponent("x"), body: Data("{}".utf8)))
        }
        #expect(error?.delivery == .ambiguous)
        #expect(server.requests.count == 1)
    }

    @Test func methodHeadersAndBodyReachTheServer() async throws {
        let server = try LoopbackServer { request in
            .init(status: 201, headers: [("X-Echo", request.headers["x-custom"] ?? "")], body: request.body)
        }
        defer { server.stop() }
        let body = Data(#"{"Amount__c":12.5}"#.utf8)
        let request = HTTPRequest(
            method: .patch, url: server.baseURL.appendingPathComponent("/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1"),
            headers: ["X-Custom": "abc", "Content-Type": "application/json"], body: body)
        let response = try await URLSessionTransport().send(request)
        #expect(response.status == 201)
        #expect(response.headers["x-echo"] == "abc")
        #expect(response.body == body)
        #expect(server.requests.first?.method == "PATCH")
        #expect(server.requests.first?.path == "/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1")
    }

    @Test func redirectsAreReturnedNotFollowed() async throws {
        let server = try LoopbackServer { request in
            request.path == "/start" ? .init(status: 302, headers: [("Location", "/elsewhere")]) : .init(status: 200)
        }
        defer { server.stop() }
        let response = try await URLSessionTransport().send(
            HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("start"), headers: ["Authorization": "Bearer SECRET"]))
        #expect(response.status == 302)
        #expect(server.requests.map(\.path) == ["/start"])
    }

    @Test func anUnansweredAttemptTimesOutAsAmbiguous() async throws {
        // The server holds the connection open without answering; the attempt timeout ends it.
        let (server, release) = try holdingServer()
        defer { release() }
        let transport = URLSessionTransport(options: .init(attemptTimeout: .milliseconds(200)))
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("slow")))
        }
        #expect(error?.delivery == .ambiguous)
        #expect(error?.kind == .timedOut)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(200) && waited < .milliseconds(1_500))
    }

    @Test func cancellationSurfacesAsCancellationError() async throws {
        let (server, release) = try holdingServer()
        defer { release() }
        let task = Task { try await URLSessionTransport().send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("slow"))) }
        var turns = 0
        while server.requests.isEmpty && turns < 1_000_000 {
            await Task.yield()
            turns += 1
        }
        try #require(server.requests.count == 1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    /// A server whose handler blocks until `release` is called, then answers 200 and stops.
    private func holdingServer() throws -> (LoopbackServer, @Sendable () -> Void) {
        let gate = DispatchSemaphore(value: 0)
        let server = try LoopbackServer { _ in
            gate.wait()
            return .init(status: 200)
        }
        return (server, {
            gate.signal()
            server.stop()
        })
    }
}
