import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct FallbackQueryTests {
    struct Account: Codable, Sendable, Equatable { var Name: String }

    let clock = VirtualClock(mode: .autoAdvance)

    func setUp(faults: [ChaosFault]) throws -> (SalesforceSimulator, SalesforceClient, InMemoryResultCache, EventRecorder) {
        let org = SalesforceSimulator(clock: clock)
        org.seed("Account", records: [["Name": "Acme"], ["Name": "Globex"]])
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 3, faults: faults)
        let recorder = EventRecorder()
        let client = try SalesforceClient(
            configuration: .init(instanceURL: org.options.instanceURL, retryPolicy: RetryPolicy(maxAttempts: 3)), transport: chaos,
            tokenProvider: org.clientCredentialsProvider(), events: recorder.sink, clock: clock)
        return (org, client, InMemoryResultCache(clock: clock), recorder)
    }

    @Test func aStaleValueWithItsAgeIsServedDuringAStormAndFreshAfter() async throws {
        // The storm covers t = 100 s … 400 s.
        let (org, client, cache, recorder) = try setUp(faults: [.serviceUnavailable(from: .seconds(100), for: .seconds(300))])
        _ = try await client.tokens.token()
        let fresh = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        #expect(fresh.freshness == .fresh && fresh.records.map(\.Name) == ["Acme", "Globex"])
        org.seed("Account", records: [["Name": "Initech"]])
        try await clock.sleep(until: .origin + .seconds(150))
        let stale = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        guard case .stale(let age, let reason) = stale.freshness else { Issue.record("not stale: \(stale.freshness)"); return }
        #expect(reason == .transientServer)
        #expect(age >= .seconds(150) && age < .seconds(160))  // fetched at t = 0, served after the retries' waits
        #expect(stale.records.map(\.Name) == ["Acme", "Globex"])
        #expect(recorder.events.contains { if case .fallbackServed = $0 { true } else { false } })
        try await clock.sleep(until: .origin + .seconds(500))
        let after = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        #expect(after.freshness == .fresh && after.records.count == 3)
    }

    @Test func aCodeBugIsNeverHiddenByTheCache() async throws {
        let (org, client, cache, _) = try setUp(faults: [])
        _ = org
        _ = try await client.queryWithFallback(SOQL(unsafeRaw: "SELECT Name FROM Account"), as: Account.self, cache: cache, key: "accounts")
        let error = await #expect(throws: SalesforceError.self) {
            try await client.queryWithFallback(SOQL(unsafeRaw: "SELECT Name FORM Account"), as: Account.self, cache: cache, key: "accounts")
        }
        #expect(error?.errorCode == "MALFORMED_QUERY")
    }

    @Test func withNothingCachedTheOriginalErrorIsThrown() async throws {
        let (_, client, cache, _) = try setUp(faults: [.serviceUnavailable(from: .zero, for: .seconds(3_600))])
        let error = await #expect(throws: SalesforceError.self) {
            try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        }
        #expect(error?.status == 503)
    }

    @Test func fallbackModeServesTheCacheWithoutCalling() async throws {
        let (org, client, cache, _) = try setUp(faults: [])
        _ = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        let callsBefore = org.calls["GET query"] ?? 0
        client.mode = .fallback
        let result = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        #expect(result.freshness == .stale(age: .zero, reason: .shed))
        #expect(org.calls["GET query"] ?? 0 == callsBefore)
        await #expect(throws: AdmissionError.self) {
            try await client.queryWithFallback("SELECT Name FROM Contact", as: Account.self, cache: cache)
        }
    }

    @Test func anOpenBreakerServesTheCache() async throws {
        let (_, client, cache, _) = try setUp(faults: [])
        _ = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        client.breakers.breaker(for: "sim.my.salesforce.com").isolate()
        let result = try await client.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: cache)
        #expect(result.freshness == .stale(age: .zero, reason: .circuitOpen))
    }
}
