import Foundation
import SalesforceResilience

/// Everything at once against an ``OutboxStore``, on a virtual clock: where
/// ``OutboxStoreConformance`` checks each promise alone, the soak checks that they hold together,
/// in orders nobody wrote down.
///
/// Records are updated again and again (`updates` enqueues over `records` external ids, 20 ms
/// apart) while older versions are in flight. `drainers` outboxes, each with a client of its own
/// and ``OutboxOptions/concurrentBatches`` batches at a time, drain one org simulator through a
/// ``ChaosTransport``: 200 ms answers, a 503 storm from 5 to 15 s, 10 % of answers lost after
/// the org committed, 3 % proxy errors, and a record in eleven refused once for a transient
/// reason (row lock and its kin). When the producer has stopped and the drains have ended, the
/// ``Report`` says whether each record holds the last value enqueued for it, once, with nothing
/// left queued or dead-lettered. The same seed replays the same faults.
///
/// ```swift
/// @Test(arguments: 1...4)
/// func soak(_ seed: UInt64) async throws {
///     let report = try await OutboxStoreSoak(seed: seed).run { clock, drainers in
///         let store = MyStore(clock: clock)
///         return Array(repeating: store, count: drainers)  // or one instance per drainer
///     }
///     #expect(report.problems.isEmpty, "\(report)")
/// }
/// ```
public struct OutboxStoreSoak: Sendable {
    /// Builds the stores the drainers use, one per drainer, with leases on the given clock. A
    /// store of one process returns the same instance for each; a database store can return one
    /// per drainer (a pool each), as workers on several machines have.
    public typealias MakeStores = @Sendable (_ clock: VirtualClock, _ drainers: Int) async throws -> [any OutboxStore]

    /// Seeds the faults, the order of updates and the drainers' jitter.
    public var seed: UInt64
    /// Distinct external ids. Default 150.
    public var records: Int
    /// Enqueues in all, 20 ms apart on the virtual clock. Default 1,200.
    public var updates: Int
    /// Outboxes draining at once. Default 2.
    public var drainers: Int
    /// Batches each drainer sends at once. Default 3.
    public var concurrentBatches: Int

    /// Creates a soak.
    public init(seed: UInt64, records: Int = 150, updates: Int = 1_200, drainers: Int = 2, concurrentBatches: Int = 3) {
        self.seed = seed
        self.records = max(1, records)
        self.updates = max(1, updates)
        self.drainers = max(1, drainers)
        self.concurrentBatches = max(1, concurrentBatches)
    }

    /// What a soak found.
    public struct Report: Sendable, CustomStringConvertible {
        /// Distinct records enqueued.
        public var recordsEnqueued: Int
        /// Distinct records in the org.
        public var recordsLanded: Int
        /// Records whose value in the org is not the last one enqueued: `PAY-7: last enqueued 1117, the org holds 1093`.
        public var stale: [String]
        /// Records the org holds more than once, with their counts.
        public var duplicates: [String: Int]
        /// Entries still queued after the drains ended.
        public var leftQueued: Int
        /// Entries the drainers dead-lettered (every refusal in the soak is transient).
        public var deadLettered: Int
        /// Records each drainer delivered.
        public var deliveredByDrainer: [Int]
        /// The faults the chaos transport injected, by kind.
        public var faults: [String: Int]

        /// Everything that went wrong; empty when the store held up.
        public var problems: [String] {
            var found: [String] = []
            if !stale.isEmpty { found.append("\(stale.count) records hold an older value, e.g. \(stale.prefix(3).joined(separator: "; "))") }
            if !duplicates.isEmpty { found.append("\(duplicates.count) records landed more than once: \(duplicates.prefix(3).map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))") }
            if recordsLanded != recordsEnqueued { found.append("\(recordsEnqueued) records enqueued, \(recordsLanded) in the org") }
            if leftQueued > 0 { found.append("\(leftQueued) entries left queued") }
            if deadLettered > 0 { found.append("\(deadLettered) entries dead-lettered for transient refusals") }
            if (faults["lost response"] ?? 0) == 0 || (faults["status 503"] ?? 0) == 0 { found.append("the storm or the lost answers never happened: \(faults)") }
            return found
        }

        /// The problems, or a line saying there were none, with the counts.
        public var description: String {
            let counts = "\(recordsEnqueued) records, delivered by drainer \(deliveredByDrainer), faults \(faults.sorted { $0.key < $1.key })"
            return problems.isEmpty ? "no problem: \(counts)" : problems.joined(separator: "\n") + "\n(\(counts))"
        }
    }

    /// Runs the soak on the stores `makeStores` builds.
    public func run(_ makeStores: MakeStores) async throws -> Report {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: seed, faults: [
            .latency(.milliseconds(200)),
            .serviceUnavailable(from: .seconds(5), for: .seconds(10)),
            .lostResponses(probability: 0.1),
            .randomServerErrors(probability: 0.03),
        ])
        for n in stride(from: 7, through: records, by: 11) {
            let refusals = [("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"),
                            ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678 (-1)")]
            let refusal = refusals[n % refusals.count]
            org.failRecord(Self.reference(n), code: refusal.0, message: refusal.1)
        }
        let stores = try await makeStores(clock, drainers)
        guard stores.count == drainers, let producerStore = stores.first else {
            throw StoreConformanceViolation(check: "soak", detail: "asked for \(drainers) stores, got \(stores.count)")
        }
        var outboxes: [Outbox] = []
        for (index, store) in stores.enumerated() {
            let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: chaos,
                                              tokenProvider: org.clientCredentialsProvider(), clock: clock,
                                              random: RandomSource(seed: seed &+ UInt64(index)))
            outboxes.append(Outbox(store: store, client: client, options: OutboxOptions(batchSize: 50, concurrentBatches: concurrentBatches),
                                   random: RandomSource(seed: seed &+ UInt64(index))))
        }

        let finished = Lock(false)
        let (records, updates, seed) = (records, updates, seed)
        // The producer's last value per record. However it ends (a store that fails an enqueue
        // included), it tells the drains to stop once the backlog is empty.
        @Sendable func produce() async throws -> [Int: Int] {
            defer { finished.withLock { $0 = true } }
            let random = RandomSource(seed: seed &+ 100)
            var last: [Int: Int] = [:]
            for value in 1...updates {
                let n = Int(random.next() % UInt64(records)) + 1
                try await producerStore.enqueue([OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: Self.reference(n),
                                                             fields: ["Value__c": .number(Double(value))], enqueuedAt: clock.wallClockNow)])
                last[n] = value
                try await clock.sleep(for: .milliseconds(20))
            }
            return last
        }
        async let produced = produce()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for outbox in outboxes {
                group.addTask { try await outbox.drain(keepRunning: { !finished.withLock { $0 } }) }
            }
            try await group.waitForAll()
        }
        let last = try await produced
        try await outboxes[0].drain()

        var landed: [String: JSONValue] = [:]
        for record in org.records(of: "Payment__c") {
            if case .string(let reference) = record["Reference__c"] { landed[reference] = record["Value__c"] }
        }
        var stale: [String] = []
        for (n, value) in last.sorted(by: { $0.key < $1.key }) where landed[Self.reference(n)] != .number(Double(value)) {
            let held = landed[Self.reference(n)].map { value in
                if case .number(let number) = value { return String(Int(number)) }
                return "\(value)"
            } ?? "nothing"
            stale.append("\(Self.reference(n)): last enqueued \(value), the org holds \(held)")
        }
        var delivered: [Int] = []
        var lettered = 0
        for outbox in outboxes {
            delivered.append(await outbox.delivered)
            lettered += await outbox.deadLettered
        }
        return Report(
            recordsEnqueued: last.count, recordsLanded: landed.count, stale: stale,
            duplicates: org.countsByValue(of: "Payment__c", field: "Reference__c").filter { $0.value > 1 },
            leftQueued: try await producerStore.backlog().count, deadLettered: lettered, deliveredByDrainer: delivered,
            faults: chaos.statistics)
    }

    static func reference(_ n: Int) -> String { "PAY-\(n)" }
}
