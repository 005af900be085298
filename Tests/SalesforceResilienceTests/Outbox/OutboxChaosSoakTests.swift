import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Everything at once, on the virtual clock, over seeds: records updated again and again while
/// older versions are in flight, two drainers on one store with three batches at a time each, a
/// 503 storm, answers lost after
/// Salesforce committed, proxy errors and transient per-record refusals. When the producer stops
/// and the drain ends, each record in the org holds the last value enqueued for it, once, and
/// nothing is left queued or dead-lettered. The targeted tests show each rule alone; this shows
/// that they hold together, in orders nobody wrote down.
@Suite struct OutboxChaosSoakTests {
    struct Run: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        var journal: Bool
        var testDescription: String { "seed \(seed), \(journal ? "file journal" : "in memory")" }
    }

    static let runs: [Run] = (1...4).flatMap { seed in [Run(seed: seed, journal: false), Run(seed: seed, journal: true)] }

    @Test(.timeLimit(.minutes(1)), arguments: runs)
    func theLastValueEnqueuedForEachRecordIsTheOneThatLandsOnce(_ run: Run) async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: run.seed, faults: [
            .latency(.milliseconds(200)),
            .serviceUnavailable(from: .seconds(5), for: .seconds(10)),
            .lostResponses(probability: 0.1),
            .randomServerErrors(probability: 0.03),
        ])
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: chaos,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock, random: RandomSource(seed: run.seed))
        let store: any OutboxStore
        if run.journal {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID().uuidString).journal").path
            store = try FileJournalOutboxStore(path: path, compactAfterBytes: 50_000, clock: clock)
        } else {
            store = InMemoryOutboxStore(clock: clock)
        }
        // Two drainers on the one store, each with a client of its own (its own breaker and
        // throttle, as two workers have), three batches at a time each.
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(batchSize: 50, concurrentBatches: 3),
                            random: RandomSource(seed: run.seed))
        let otherClient = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: chaos,
                                               tokenProvider: org.clientCredentialsProvider(), clock: clock, random: RandomSource(seed: run.seed &+ 1))
        let other = Outbox(store: store, client: otherClient, options: OutboxOptions(batchSize: 50, concurrentBatches: 3),
                           random: RandomSource(seed: run.seed &+ 1))
        // A few records are refused once for a transient reason (row lock and its kin), whatever
        // value they carry at the time.
        let keys = 150
        for n in stride(from: 7, through: keys, by: 11) {
            let failure = OutboxDeliveryTests.transientFailures[n % OutboxDeliveryTests.transientFailures.count]
            org.failRecord("PAY-\(n)", code: failure.code, message: failure.message)
        }

        let random = RandomSource(seed: run.seed &+ 100)
        let finished = Lock(false)
        let producer = Task {
            var last: [Int: Int] = [:]
            for value in 1...1_200 {
                let key = Int(random.next() % UInt64(keys)) + 1
                try await outbox.enqueue([OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(key)",
                                                      fields: ["Value__c": .number(Double(value))], enqueuedAt: clock.wallClockNow)])
                last[key] = value
                try await clock.sleep(for: .milliseconds(20))
            }
            finished.withLock { $0 = true }
            return last
        }
        async let second: Void = other.drain(keepRunning: { !finished.withLock { $0 } })
        try await outbox.drain(keepRunning: { !finished.withLock { $0 } })
        try await second
        let last = try await producer.value
        try await outbox.drain()

        #expect(try await store.backlog().count == 0, "records left queued")
        if let journal = store as? FileJournalOutboxStore {
            #expect(try await journal.deadLetters().isEmpty, "transient refusals were dead-lettered")
        }
        let counts = org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(counts.values.allSatisfy { $0 == 1 }, "duplicates: \(counts.filter { $0.value > 1 })")
        var landed: [String: JSONValue] = [:]
        for record in org.records(of: "Payment__c") {
            if case .string(let reference) = record["Reference__c"] { landed[reference] = record["Value__c"] }
        }
        #expect(landed.count == last.count, "\(last.count) records enqueued, \(landed.count) in the org")
        let stale = last.filter { key, value in landed["PAY-\(key)"] != .number(Double(value)) }
        #expect(stale.isEmpty, "\(stale.count) records hold an older value, e.g. \(stale.first.map { "PAY-\($0.key): want \($0.value), org has \(String(describing: landed["PAY-\($0.key)"]))" } ?? "")")
        // The faults did happen: otherwise the run above proves little.
        let injected = chaos.statistics
        #expect((injected["lost response"] ?? 0) > 0 && (injected["status 503"] ?? 0) > 0, "faults injected: \(injected)")
        let (mine, theirs) = (await outbox.delivered, await other.delivered)
        #expect(mine > 0 && theirs > 0, "one drainer did all the work: \(mine) and \(theirs) delivered")
    }
}
