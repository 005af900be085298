import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct MetricsTests {
    @Test func percentilesOfAKnownDistribution() {
        let recorder = MetricsRecorder()
        for ms in (1...100).shuffled() { recorder.recordCall(latency: .milliseconds(ms), failure: nil) }
        let snapshot = recorder.snapshot()
        #expect(snapshot.p50 == .milliseconds(50))
        #expect(snapshot.p95 == .milliseconds(95))
        #expect(snapshot.p99 == .milliseconds(99))
        #expect(snapshot.calls == 100 && snapshot.successRate == 1)
    }

    @Test func onlyTheMostRecentLatenciesAreKept() {
        let recorder = MetricsRecorder()
        for _ in 0..<MetricsRecorder.reservoirSize { recorder.recordCall(latency: .seconds(10), failure: nil) }
        for _ in 0..<MetricsRecorder.reservoirSize { recorder.recordCall(latency: .milliseconds(1), failure: nil) }
        #expect(recorder.snapshot().p99 == .milliseconds(1))
        #expect(recorder.snapshot().calls == 2 * MetricsRecorder.reservoirSize)
    }

    @Test func anEmptyRecorderHasNoPercentiles() {
        let snapshot = MetricsRecorder().snapshot()
        #expect(snapshot.p50 == nil && snapshot.successRate == 1 && snapshot.dominantFailure == nil)
    }

    @Test func theClientCountsOutcomesCodesRetriesAndLatency() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let transport = MockTransport(responses: [
            .success(.status(503)), .success(.json(200, "{}")),                                  // retried, then fine
            .success(.salesforceError(400, code: "MALFORMED_QUERY")),                             // a code bug
            .success(.salesforceError(400, code: "INVALID_FIELD")),
            .success(.salesforceError(400, code: "MALFORMED_QUERY")),
        ])
        let slow = ChaosTransport(wrapping: transport, clock: clock, seed: 1, faults: [.latency(.milliseconds(100))])
        let client = try makeClient(slow, clock: clock) { $0.retryPolicy = RetryPolicy(backoff: Backoff(initial: .seconds(1), jitter: .none)) }
        _ = try await client.limits()
        for _ in 0..<3 { _ = try? await client.limits() }
        let snapshot = client.metrics.snapshot()
        #expect(snapshot.calls == 4 && snapshot.successes == 1 && snapshot.successRate == 0.25)
        #expect(snapshot.failuresByCategory == [.clientError: 3])
        #expect(snapshot.failuresByErrorCode == ["MALFORMED_QUERY": 2, "INVALID_FIELD": 1])
        #expect(snapshot.dominantFailure == .clientError)
        #expect(snapshot.retries == 1)
        #expect(snapshot.p99 == .milliseconds(1_200))  // 100 ms, a 1 s backoff, 100 ms
        #expect(snapshot.p50 == .milliseconds(100))
    }

    @Test func breakerOpensAndRefreshesAreCounted() async throws {
        let transport = MockTransport(responses: [.success(sessionExpired), .success(.json(200, "{}"))])
        let client = try makeClient(transport, tokenProvider: OAuthTokenProvider(
            loginURL: URL(string: "https://login.salesforce.com")!, grant: .clientCredentials(clientID: "c", clientSecret: "s"),
            transport: MockTransport { _ in tokenResponse("T") }, clock: VirtualClock()))
        _ = try await client.limits()
        #expect(client.metrics.snapshot().tokenRefreshes == 1)
        // Five 503s in a row (the retries of one call) open the breaker once.
        let failing = try makeClient(MockTransport { _ in .status(503) })
        _ = try? await failing.limits()
        #expect(failing.metrics.snapshot().breakerOpens == 1)
        #expect(failing.metrics.snapshot().retries == 4)
        #expect(failing.metrics.snapshot().failuresByCategory == [.transientServer: 1])
    }
}
