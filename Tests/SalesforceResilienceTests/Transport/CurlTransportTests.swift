import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// `CurlTransport` over real loopback HTTP/1.1 with keep-alive and faults at the socket: the
/// shared transport contract, the wire storm drill, then what is particular to libcurl.
@Suite(.serialized, .enabled(if: CurlTransport.isAvailable, "libcurl is not on this machine"))
struct CurlTransportTests {
    @Test(arguments: TransportConformance.checks)
    func keepsTheTransportContract(_ check: TransportConformance.Check) async throws {
        try await check.run { limits in
            try! CurlTransport(options: .init(attemptTimeout: limits.attemptTimeout, maxResponseBytes: limits.maxResponseBytes))
        }
    }

    /// The storm of the in-memory suite over real HTTP: every lost answer surfaces at once, and
    /// libcurl never re-sends a request (with or without its body).
    @Test(.timeLimit(.minutes(3))) func theWireStormLandsEveryPaymentOnce() async throws {
        let reports = try await WireStormDrill.run(seeds: 1...6) { try! CurlTransport(options: .init(attemptTimeout: .seconds(10))) }
        #expect(reports.flatMap(\.problems).isEmpty, "\(reports.flatMap(\.problems))")
        #expect(reports.map(\.lostAnswers).reduce(0, +) > 0, "the schedule dropped no answer: the test proved nothing")
    }

    @Test func everyAttemptOpensAConnectionOfItsOwn() async throws {
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .json(200, #"{"ok":true}"#) },
                                            options: .init(honoursConnectionClose: false))
        defer { server.stop() }
        let transport = try CurlTransport()
        for _ in 0..<3 { _ = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("x"))) }
        #expect(server.connectionsAccepted == 3)
        #expect(server.exchanges.map(\.connection) == [1, 2, 3])
    }

    @Test func theRequestCarriesOnlyItsOwnFields() async throws {
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .status(204) })
        defer { server.stop() }
        let transport = try CurlTransport()
        let body = Data(String(repeating: "x", count: 4_000).utf8)
        _ = try await transport.send(HTTPRequest(method: .post, url: server.baseURL.appendingPathComponent("a"), headers: ["X-Note": "one\r\nX-Injected: two"], body: body))
        _ = try await transport.send(HTTPRequest(method: .post, url: server.baseURL.appendingPathComponent("b")))
        _ = try await transport.send(HTTPRequest(method: .delete, url: server.baseURL.appendingPathComponent("c")))
        let exchanges = server.exchanges
        try #require(exchanges.count == 3)
        #expect(exchanges[0].headers["Content-Type"] == nil, "libcurl's form type must not be added")
        #expect(exchanges[0].headers["Expect"] == nil, "no 100-continue round trip")
        #expect(exchanges[0].headers["X-Injected"] == nil && exchanges[0].headers["X-Note"] == "oneX-Injected: two")
        #expect(exchanges[0].body == body)
        #expect(exchanges[1].method == "POST" && exchanges[1].headers["Content-Length"] == "0")
        #expect(exchanges[2].method == "DELETE" && exchanges[2].body.isEmpty)
    }

    @Test func cancellingTheCallerEndsAWaitingAttemptAtOnce() async throws {
        let arrived = Lock(false)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in
            arrived.withLock { $0 = true }
            for await _ in release { break }
            return .status(200)
        })
        defer {
            releaser.finish()
            server.stop()
        }
        let transport = try CurlTransport(options: .init(attemptTimeout: .seconds(120)))
        let call = Task { try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("slow"))) }
        while !arrived.withLock({ $0 }) { await Task.yield() }
        let started = ContinuousClock.now
        call.cancel()
        await #expect(throws: CancellationError.self) { try await call.value }
        #expect(ContinuousClock.now - started < .seconds(30), "the worker woke from poll when cancelled, not at its timeout")
    }

    @Test func aRefusedConnectionAndAnUnknownHostWereNeverSent() async throws {
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .status(200) })
        let url = server.baseURL.appendingPathComponent("x")
        server.stop()
        let transport = try CurlTransport()
        let refused = await #expect(throws: TransportError.self) { try await transport.send(HTTPRequest(method: .post, url: url, body: Data("{}".utf8))) }
        #expect(refused?.delivery == .notSent && refused?.kind == .connectionRefused)
        let unknown = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: URL(string: "http://no-such-host.invalid/x")!))
        }
        #expect(unknown?.delivery == .notSent && unknown?.kind == .dnsFailure)
    }

    @Test func aURLLibcurlWillNotFetchIsABadURLThatWasNeverSent() async throws {
        let transport = try CurlTransport()
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: URL(string: "file:///etc/passwd")!))
        }
        #expect(error?.delivery == .notSent && error?.kind == .badURL)
    }

    @Test func theLinuxDefaultIsCurl() {
        #if os(Linux)
        #expect(StandardTransport.make() is CurlTransport)
        #expect(CurlTransport.libraryVersion?.hasPrefix("libcurl/") == true)
        #else
        #expect(StandardTransport.make() is URLSessionTransport)
        #endif
    }
}
