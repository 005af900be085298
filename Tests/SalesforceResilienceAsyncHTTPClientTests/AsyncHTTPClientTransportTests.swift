#if AsyncHTTPClient // the package trait that brings this module's dependencies
import AsyncHTTPClient
import Foundation
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The AsyncHTTPClient transport against the same contract and the same storm as
/// `URLSessionTransport`, over real loopback HTTP with keep-alive and faults at the socket.
@Suite struct AsyncHTTPClientTransportTests {
    /// One client for the whole suite: a process-lifetime pool, as a service would have.
    static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: AsyncHTTPClientTransport.clientConfiguration(.init(connectTimeout: .seconds(2))))

    @Test(arguments: TransportConformance.checks)
    func keepsTheTransportContract(_ check: TransportConformance.Check) async throws {
        try await check.run { limits in
            AsyncHTTPClientTransport(client: Self.client, options: .init(attemptTimeout: limits.attemptTimeout, maxResponseBytes: limits.maxResponseBytes))
        }
    }

    @Test(.timeLimit(.minutes(1))) func everyPaymentLandsExactlyOnceThroughTheStormOverRealHTTP() async throws {
        let reports = try await WireStormDrill.run(seeds: 1...6) {
            AsyncHTTPClientTransport(client: Self.client, options: .init(attemptTimeout: .seconds(10)))
        }
        #expect(reports.flatMap(\.problems).isEmpty, "\(reports.flatMap(\.problems))")
        #expect(reports.map(\.lostAnswers).reduce(0, +) > 0, "the schedule dropped no answer: the test proved nothing")
    }

    @Test func connectionsAreKeptAliveAndReused() async throws {
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .json(200, "{}") })
        defer { server.stop() }
        let transport = AsyncHTTPClientTransport(client: Self.client)
        for _ in 0..<5 { _ = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("x"))) }
        #expect(server.connectionsAccepted == 1)
    }

    @Test func anOwnedClientShutsDown() async throws {
        let transport = AsyncHTTPClientTransport(options: .init(connectTimeout: .seconds(1)))
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .status(204) })
        defer { server.stop() }
        #expect(try await transport.send(HTTPRequest(method: .get, url: server.baseURL)).status == 204)
        try await transport.shutdown()
    }
}

@Suite struct AsyncHTTPClientTimeoutTests {
    @Test func aSilenceLongerThanTheReadTimeoutIsAmbiguousTimedOut() async throws {
        let server = try LoopbackHTTPServer(serving: MockTransport { _ in .json(200, "{}") },
                                            chaos: ChaosSchedule(faults: [.stalls(.seconds(30), probability: 1)], seed: 1, clock: SystemClock()))
        defer { server.stop() }
        let transport = AsyncHTTPClientTransport(options: .init(attemptTimeout: .seconds(20), readTimeout: .milliseconds(300)))
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("services/data/v62.0/limits")))
        }
        #expect(error?.delivery == .ambiguous && error?.kind == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(5), "the read timeout, not the attempt timeout, ended it")
        try await transport.shutdown()
    }

    @Test func aHostThatNeverAnswersTheHandshakeIsNotSentAfterTheConnectTimeout() async throws {
        let hole = try BlackHole()
        defer { hole.close() }
        let transport = AsyncHTTPClientTransport(options: .init(connectTimeout: .milliseconds(300), attemptTimeout: .seconds(20)))
        let started = ContinuousClock.now
        let error = await #expect(throws: TransportError.self) {
            try await transport.send(HTTPRequest(method: .post, url: URL(string: "http://127.0.0.1:\(hole.port)/services/data/v62.0/sobjects/Payment__c")!,
                                                 body: Data("{}".utf8)))
        }
        #expect(error?.delivery == .notSent, "\(String(describing: error))")
        #expect(ContinuousClock.now - started < .seconds(5))
        try await transport.shutdown()
    }
}

/// A listening socket whose accept queue is full and never drained: the kernel drops further
/// SYNs, so a connection attempt hangs until the client's connect timeout, as with a host
/// behind a black-holing firewall.
final class BlackHole: Sendable {
    let port: UInt16
    private let descriptors: [Int32]

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        guard bound == 0, listen(listener, 0) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        port = UInt16(bigEndian: address.sin_port)
        // Fill the accept queue (backlog 0 holds one or two) with connections nobody accepts.
        var fillers: [Int32] = []
        for _ in 0..<4 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(filler, F_SETFL, O_NONBLOCK)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, length) } }
            fillers.append(filler)
        }
        descriptors = [listener] + fillers
    }

    func close() { for descriptor in descriptors { Glibc.close(descriptor) } }
}
#endif
