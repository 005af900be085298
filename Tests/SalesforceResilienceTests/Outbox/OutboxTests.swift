import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct OutboxTests {
    let clock = VirtualClock(mode: .autoAdvance)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")

    func setUp(faults: [ChaosFault] = [], options: SimulatorOptions = SimulatorOptions(), breaker: CircuitBreakerOptions = .default)
        throws -> (SalesforceSimulator, ChaosTransport, SalesforceClient) {
        let org = SalesforceSimulator(options: options, clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 11, faults: faults)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL, circuitBreaker: breaker), transport: chaos,
            tokenProvider: org.clientCredentialsProvider(), clock: clock, random: RandomSource(seed: 11))
        return (org, chaos, client)
    }

    func journal() throws -> String {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory.appendingPathComponent("outbox.jsonl").path
    }

    func enqueuePayments(_ outbox: Outbox, _ range: ClosedRange<Int>, amount: Double = 10) async throws {
        for n in range {
            try await outbox.enqueue("Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": amount])
        }
    }

    @Test func drainsInCollectionsOf200() async throws {
        let (org, _, client) = try setUp()
        let outbox = Outbox(store: InMemoryOutboxStore(), client: client)
        try await enqueuePayments(outbox, 1...450)
        #expect(try await outbox.backlog().count == 450)
        try await outbox.drain()
        #expect(org.calls["PATCH collections"] == 3)
        #expect(org.records(of: "Payment__c").count == 450)
        #expect(try await outbox.backlog().count == 0)
        #expect(await outbox.delivered == 450)
    }

    @Test func redeliveryAfterLostResponsesCreatesNoDuplicate() async throws {
        let (org, chaos, client) = try setUp(faults: [.lostResponses(probability: 0.3)])
        let outbox = Outbox(store: try FileJournalOutboxStore(path: journal()), client: client, random: RandomSource(seed: 1))
        try await enqueuePayments(outbox, 1...1_000)
        try await outbox.drain()
        #expect((chaos.statistics["lost response"] ?? 0) > 0)
        #expect(org.records(of: "Payment__c").count == 1_000)
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
    }

    /// A store that "crashes" (throws) on its first acknowledgement, after Salesforce committed.
    enum CrashingStore {
        struct Crash: Error {}
        static func wrapping(_ inner: any OutboxStore) -> InterceptedOutboxStore {
            let crashed = Lock(false)
            return InterceptedOutboxStore(inner: inner) { call in
                guard call == .acknowledge, !crashed.withLock({ crashed in defer { crashed = true }; return crashed }) else { return }
                throw Crash()
            }
        }
    }

    @Test func aCrashBetweenCommitAndAcknowledgeRedeliversWithoutDuplicates() async throws {
        let (org, _, client) = try setUp()
        let path = try journal()
        let journal = try FileJournalOutboxStore(path: path)
        let first = Outbox(store: CrashingStore.wrapping(journal), client: client)
        try await enqueuePayments(first, 1...300)
        await #expect(throws: CrashingStore.Crash.self) { try await first.drain() }
        #expect(org.records(of: "Payment__c").count == 200)  // committed, not acknowledged
        // The process restarts with the same journal (the dead process's lock died with it).
        await journal.close()
        let second = Outbox(store: try FileJournalOutboxStore(path: path), client: client)
        #expect(try await second.backlog().count == 300)
        try await second.drain()
        #expect(org.records(of: "Payment__c").count == 300)
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
        #expect(try await second.backlog().count == 0)
    }

    @Test func permanentRecordFailuresAreDeadLetteredWithTheError() async throws {
        let (org, _, client) = try setUp()
        let store = try FileJournalOutboxStore(path: journal())
        let outbox = Outbox(store: store, client: client)
        try await enqueuePayments(outbox, 1...5)
        try await outbox.enqueue("Payment__c", externalIdField: "Reference__c", externalId: "PAY-BAD", fields: ["Bad-Field": 1])
        try await outbox.drain()
        #expect(org.records(of: "Payment__c").count == 5)
        let letters = try await store.deadLetters()
        #expect(letters.map(\.entry.externalId) == ["PAY-BAD"])
        #expect(letters.first?.reason.hasPrefix("INVALID_FIELD: No such column 'Bad-Field'") == true)
        #expect(await outbox.deadLettered == 1)
        #expect(try await outbox.backlog().count == 0)
    }

    @Test func rowLockedRecordsAreRetriedNotDeadLettered() async throws {
        let (org, _, client) = try setUp()
        org.injectRowLockContention(count: 3)
        let store = InMemoryOutboxStore()
        let outbox = Outbox(store: store, client: client)
        try await enqueuePayments(outbox, 1...10)
        try await outbox.drain()
        #expect(org.records(of: "Payment__c").count == 10)
        #expect(await store.deadLetters.isEmpty)
        #expect(org.calls["PATCH collections"] == 2)
    }

    @Test func drainingPausesWhileTheBreakerIsOpen() async throws {
        let (org, chaos, client) = try setUp(faults: [.serviceUnavailable(from: .zero, for: .seconds(600))],
                                             breaker: .init(consecutiveFailureThreshold: 3, breakDuration: .seconds(60)))
        _ = try await client.tokens.token()  // before the storm reaches the token endpoint
        let outbox = Outbox(store: InMemoryOutboxStore(), client: client)
        try await enqueuePayments(outbox, 1...10)
        var step = try await outbox.drainOnce()
        while case .sent = step { step = try await outbox.drainOnce() }
        guard case .paused(let reason, let duration) = step else { Issue.record("\(step)"); return }
        #expect(reason == .circuitOpen)
        #expect(duration > .zero && duration <= .seconds(60))
        let callsWhenOpened = chaos.statistics["status 503"] ?? 0
        for _ in 0..<5 { #expect(try await outbox.drainOnce() == step) }
        #expect(chaos.statistics["status 503"] ?? 0 == callsWhenOpened)
        #expect(org.records(of: "Payment__c").isEmpty)
        #expect(try await outbox.backlog().count == 10)
    }

    @Test func afterAnOutageTheNextBatchGoesOutAsTheProbeNotAfterTheOutboxsOwnBackoff() async throws {
        // A storm of 100 s, an outbox whose own backoff would wait minutes, a breaker that
        // probes every 8 s: the first batch after the storm is the first probe after it.
        let (org, _, client) = try setUp(faults: [.serviceUnavailable(from: .seconds(1), for: .seconds(100))])
        _ = try await client.tokens.token()
        let outbox = Outbox(store: InMemoryOutboxStore(clock: clock), client: client,
                            options: OutboxOptions(retryBackoff: Backoff(initial: .seconds(120), multiplier: 2, maximum: .seconds(600))))
        try await enqueuePayments(outbox, 1...10)
        await clock.advance(by: .seconds(2))  // the storm has begun
        try await outbox.drain()
        let stormEnd = Duration.seconds(101)
        #expect(org.records(of: "Payment__c").count == 10)
        #expect(clock.elapsed >= stormEnd && clock.elapsed <= stormEnd + CircuitBreakerOptions.default.breakDuration + .seconds(1),
                "delivered \(clock.elapsed - stormEnd) after the storm")
    }

    @Test func anExhaustedAPILimitPausesDraining() async throws {
        let (org, _, client) = try setUp(options: SimulatorOptions(dailyAPILimit: 1))
        // No budget pacing: this is about what happens once the limit is reached anyway.
        let outbox = Outbox(store: InMemoryOutboxStore(), client: client, options: OutboxOptions(limitPause: .seconds(900), budgetPacing: nil))
        try await enqueuePayments(outbox, 1...3)
        #expect(try await outbox.drainOnce() == .sent(delivered: 3, deadLettered: 0, retrying: 0))
        try await enqueuePayments(outbox, 4...6)
        #expect(try await outbox.drainOnce() == .sent(delivered: 0, deadLettered: 0, retrying: 3))
        #expect(try await outbox.drainOnce() == .paused(reason: .apiLimitExceeded, for: .seconds(900)))
        #expect(org.statuses[403] == 1)
    }

    @Test func backlogReportsSizeAndAge() async throws {
        let (_, _, client) = try setUp()
        let outbox = Outbox(store: InMemoryOutboxStore(), client: client)
        try await enqueuePayments(outbox, 1...2)
        try await clock.sleep(until: clock.now + .seconds(90))
        let backlog = try await outbox.backlog()
        #expect(backlog.count == 2)
        #expect(backlog.oldestAge == .seconds(90))
    }
}
