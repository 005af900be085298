import Foundation
@testable import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `URLSessionTransport` over real loopback HTTP/1.1 with keep-alive, faults at the socket.
@Suite(.serialized) struct URLSessionTransportTests {
    static let ok: MockTransport.Handler = { _ in .json(200, #"{"ok":true}"#) }

    /// A keep-alive server answering 200, with `faults` on `/services/data/…` paths only, so a
    /// warm-up request to another path leaves an open connection behind.
    func server(_ faults: [ChaosFault], handler: @escaping MockTransport.Handler = ok) throws -> LoopbackHTTPServer {
        let clock = SystemClock()
        return try LoopbackHTTPServer(serving: MockTransport(handler: handler),
                                      chaos: ChaosSchedule(faults: faults, seed: 1, clock: clock, origin: clock.now))
    }

    func dataURL(_ server: LoopbackHTTPServer) -> URL { server.baseURL.appendingPathComponent("services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1") }

    /// PATCH is an upsert, PUT a Bulk upload, POST a create: each with a body, each answered by a
    /// connection closed after the server committed it.
    @Test(arguments: [HTTPMethod.patch, .put, .post])
    func aLostAnswerOnAKeepAliveServerFailsAtOnceAsAmbiguousAndTheBodyIsSentExactlyOnce(method: HTTPMethod) async throws {
        let server = try server([.lostResponses(probability: 1)])
        defer { server.stop() }
        let transport = URLSessionTransport(options: .init(attemptTimeout: .seconds(5)))
        _ = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("warm-up")))
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: method, url: dataURL(server), headers: ["Content-Type": "application/json"],
                                                 body: Data(#"{"Amount__c":12.5}"#.utf8)))
        }
        #expect(error?.delivery == .ambiguous)
        #expect(ContinuousClock.now - started < .seconds(2), "a dropped answer must not wait for the attempt timeout")
        let sent = server.exchanges.filter { $0.method == method.rawValue }
        #expect(sent.count == 1, "the HTTP stack re-sent the request on its own")
        #expect(sent.allSatisfy { $0.complete && $0.body.count == 18 }, "a request arrived without its body")
    }

    @Test func aLostAnswerToAGETIsNotResentByTheHTTPStack() async throws {
        let server = try server([.lostResponses(probability: 1)])
        defer { server.stop() }
        let transport = URLSessionTransport(options: .init(attemptTimeout: .seconds(5)))
        _ = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("warm-up")))
        await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("services/data/v62.0/limits")))
        }
        #expect(server.exchanges.filter { $0.path.hasPrefix("/services/data") }.count == 1)
    }

    @Test func everyAttemptUsesANewConnectionByDefault() async throws {
        let server = try server([])
        defer { server.stop() }
        let transport = URLSessionTransport()
        for _ in 0..<3 { _ = try await transport.send(HTTPRequest(method: .get, url: dataURL(server))) }
        #expect(server.connectionsAccepted == 3)
    }

    @Test func theReusePolicyKeepsOneConnection() async throws {
        let server = try server([])
        defer { server.stop() }
        let transport = URLSessionTransport(options: .init(connections: .reuse))
        for _ in 0..<3 { _ = try await transport.send(HTTPRequest(method: .get, url: dataURL(server))) }
        #expect(server.connectionsAccepted == 1)
        #expect(server.exchanges.map(\.connection) == [1, 1, 1])
    }

    @Test func aResetHalfWayThroughTheBodyIsAmbiguous() async throws {
        let server = try server([.resetsMidResponse(probability: 1)], handler: { _ in .json(200, String(repeating: "x", count: 4_000)) })
        defer { server.stop() }
        let error = await #expect(throws: TransportError.self) {
            try await URLSessionTransport().send(HTTPRequest(method: .get, url: dataURL(server)))
        }
        #expect(error?.delivery == .ambiguous)
    }

    @Test func aStalledAnswerEndsAtTheAttemptTimeoutAsAmbiguous() async throws {
        let server = try server([.stalls(.seconds(30), probability: 1)])
        defer { server.stop() }
        let transport = URLSessionTransport(options: .init(attemptTimeout: .milliseconds(300)))
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: dataURL(server)))
        }
        #expect(error?.delivery == .ambiguous)
        #expect(error?.kind == .timedOut)
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(300) && waited < .milliseconds(1_500))
    }

    @Test func aSlowlyDrippedAnswerArrivesWhole() async throws {
        let body = String(repeating: "abcdefgh", count: 64)
        let server = try server([.slowDrip(bytesPerPiece: 100, interval: .milliseconds(5))], handler: { _ in .json(200, body) })
        defer { server.stop() }
        let response = try await URLSessionTransport().send(HTTPRequest(method: .get, url: dataURL(server)))
        #expect(String(decoding: response.body, as: UTF8.self) == body)
    }

    @Test func manyConcurrentAttemptsAreServedOnSeparateConnections() async throws {
        let server = try server([])
        defer { server.stop() }
        let transport = URLSessionTransport()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 { group.addTask { try await transport.send(HTTPRequest(method: .get, url: dataURL(server))).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 16))
        #expect(server.connectionsAccepted == 16)
    }

    @Test func stormThenSuccessOverRealLoopbackHTTPThroughTheRetryMiddleware() async throws {
        let calls = Mutex(0)
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in
            let n = calls.withLock { $0 += 1; return $0 }
            if n < 3 {
                var page = HTTPResponse.html(503, title: "Down")
                page.headers["Retry-After"] = "2"
                return page
            }
            return .json(200, #"{"ok":true}"#, headers: ["Sforce-Limit-Info": "api-usage=3/5000"])
        })
        defer { server.stop() }
        let clock = VirtualClock(mode: .autoAdvance)
        let recorder = EventRecorder()
        let pipeline = Pipeline(middleware: [RetryMiddleware(clock: clock, events: recorder.sink)], transport: URLSessionTransport())
        let request = HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("/services/data/v62.0/limits"))
        let response = try await pipeline.send(request, context: .forRequest(request))
        #expect(response.status == 200)
        #expect(response.headers["sforce-limit-info"] == "api-usage=3/5000")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
        #expect(server.exchanges.count == 3)
        #expect(recorder.events.compactMap(\.retryDelay) == [.seconds(2), .seconds(2)])
        #expect(clock.elapsed == .seconds(4))
    }

    @Test func connectionRefusedIsNeverSent() async throws {
        let server = try server([])
        let url = server.baseURL
        server.stop()
        await Task.yield()
        let error = await #expect(throws: TransportError.self) {
            try await URLSessionTransport().send(HTTPRequest(method: .post, url: url.appendingPathComponent("x")))
        }
        #expect(error?.delivery == .notSent)
        #expect(error?.kind == .connectionRefused)
        #expect(OutcomeClassifier().classify(error!) == .transientNetwork)
    }

    @Test func methodHeadersAndBodyReachTheServer() async throws {
        let server = try server([], handler: { request in
            HTTPResponse(status: 201, headers: ["X-Echo": request.headers["x-custom"] ?? ""], body: request.body ?? Data())
        })
        defer { server.stop() }
        let body = Data(#"{"Amount__c":12.5}"#.utf8)
        let request = HTTPRequest(method: .patch, url: dataURL(server), headers: ["X-Custom": "abc", "Content-Type": "application/json"], body: body)
        let response = try await URLSessionTransport().send(request)
        #expect(response.status == 201)
        #expect(response.headers["x-echo"] == "abc")
        #expect(response.body == body)
        #expect(server.exchanges.first?.method == "PATCH")
        #expect(server.exchanges.first?.path == "/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1")
    }

    @Test func redirectsAreReturnedNotFollowed() async throws {
        let server = try server([], handler: { request in
            request.url.path == "/start" ? HTTPResponse(status: 302, headers: ["Location": "/elsewhere"]) : .status(200)
        })
        defer { server.stop() }
        let response = try await URLSessionTransport().send(
            HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("start"), headers: ["Authorization": "Bearer SECRET"]))
        #expect(response.status == 302)
        #expect(server.exchanges.map(\.path) == ["/start"])
    }

    @Test func cancellationSurfacesAsCancellationError() async throws {
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let server = try server([.stalls(.seconds(30), probability: 1)], handler: { _ in
            arrival.yield()
            return .status(200)
        })
        defer { server.stop() }
        let task = Task { try await URLSessionTransport().send(HTTPRequest(method: .get, url: dataURL(server))) }
        for await _ in arrived { break }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func urlErrorsSayWhatHappenedAndWhetherTheRequestWentOut() throws {
        let lost = try #require(URLSessionTransport.map(URLError(.badServerResponse)) as? TransportError)
        #expect(lost.delivery == .ambiguous)
        #expect(lost.message.contains("closed the connection without a complete answer"))
        let refused = try #require(URLSessionTransport.map(URLError(.cannotConnectToHost)) as? TransportError)
        #expect(refused.delivery == .notSent)
        #expect(URLSessionTransport.map(URLError(.cancelled)) is CancellationError)
    }
}
