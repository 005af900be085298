import AsyncHTTPClient
import Foundation
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceTesting
import Testing

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
        var lost = 0
        for seed in UInt64(1)...6 {
            let report = try await WireStormDrill.run(seed: seed) {
                AsyncHTTPClientTransport(client: Self.client, options: .init(attemptTimeout: .seconds(10)))
            }
            #expect(report.landedOnce == report.payments, "\(report)")
            #expect(report.duplicates.isEmpty && report.hung.isEmpty, "\(report)")
            #expect(report.stormRequests <= 40, "\(report)")
            #expect(report.incompleteRequests == 0, "\(report)")
            lost += report.lostAnswers
        }
        #expect(lost > 0, "the schedule dropped no answer: the test proved nothing")
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
