import Foundation
import SalesforceResilience

/// The contract every ``OutboxStore`` keeps when several drainers share it, written once as
/// checks any store can run: ``InMemoryOutboxStore``, ``FileJournalOutboxStore``, a database
/// store, your own.
///
/// - a claim hands out entries no other drainer holds, oldest first;
/// - a lease that runs out (its drainer died between claim and acknowledge) gives the entries
///   to the next claim, with their attempt counts;
/// - acknowledge, dead-letter, a recorded attempt and a release end a claim;
/// - with groups kept together, no two drainers hold entries of one group;
/// - an entry enqueued again while pending keeps one place and the newer fields, at a higher
///   version;
/// - an update enqueued while the older version is in flight is not removed by the older
///   version's acknowledgement: it stays queued and goes out with the next claim;
/// - a drainer whose lease ran out changes nothing: its acknowledge, attempt, release and
///   dead-letter leave the entries, their attempt counts and the new holder's claim as they are.
///
/// Run it from a test, once per check, with a fresh store on the given clock each time:
/// ```swift
/// @Test(arguments: OutboxStoreConformance.checks)
/// func conforms(_ check: OutboxStoreConformance.Check) async throws {
///     try await check.run { clock in MyStore(clock: clock) }
/// }
/// ```
/// A store that broke a promise of its contract (``OutboxStoreConformance``,
/// `ReplayStoreConformance`): which check, and what happened instead.
public struct StoreConformanceViolation: Error, CustomStringConvertible {
    /// The check's name.
    public var check: String
    /// What the store did.
    public var detail: String
    /// `check: detail`.
    public var description: String { "\(check): \(detail)" }
}

public enum OutboxStoreConformance {
    /// Builds an empty store whose leases run on `clock`.
    public typealias MakeStore = @Sendable (VirtualClock) async throws -> any OutboxStore

    /// A broken promise: which check, and what happened instead.
    public typealias Violation = StoreConformanceViolation

    /// One promise of the contract.
    public struct Check: Sendable, CustomStringConvertible {
        /// What it checks.
        public let name: String
        let body: @Sendable (Context) async throws -> Void

        /// Runs the check against a store `make` builds; throws ``Violation`` when it breaks the promise.
        public func run(_ make: @escaping MakeStore) async throws {
            let clock = VirtualClock(mode: .manual)
            try await body(Context(name: name, clock: clock, store: try await make(clock)))
        }

        /// The name.
        public var description: String { name }
    }

    struct Context: Sendable {
        let name: String
        let clock: VirtualClock
        let store: any OutboxStore

        func require(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
            if !condition { throw Violation(check: name, detail: detail()) }
        }

        func claim(_ limit: Int, lease: Duration = .seconds(60), groups: Bool = false) async throws -> [String] {
            try await store.claim(limit: limit, lease: lease, groupsTogether: groups).map(\.externalId)
        }

        func claimBatch(_ limit: Int, lease: Duration = .seconds(60)) async throws -> OutboxClaimBatch {
            try await store.claim(limit: limit, lease: lease, groupsTogether: false)
        }
    }

    /// Entries `PAY-1`…, in order, optionally in groups.
    static func entries(_ range: ClosedRange<Int>, group: (Int) -> String? = { _ in nil }) -> [OutboxEntry] {
        range.map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                        enqueuedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(n)), group: group(n))
        }
    }

    static func key(_ n: Int) -> String { "Payment__c/Reference__c/PAY-\(n)" }

    /// The claim on `PAY-n` in `batch`.
    static func claim(_ n: Int, in batch: OutboxClaimBatch) throws -> OutboxClaim {
        guard let entry = batch.entries.first(where: { $0.key == key(n) }) else {
            throw Violation(check: "claim", detail: "PAY-\(n) is not in the claim \(batch.map(\.externalId))")
        }
        return batch.claim(entry)
    }

    /// Every check.
    public static let checks: [Check] = [
        Check(name: "claims by two drainers never overlap and take the oldest first") { context in
            try await context.store.enqueue(entries(1...10))
            let first = try await context.claim(4)
            let second = try await context.claim(4)
            let third = try await context.claim(4)
            try context.require(first == ["PAY-1", "PAY-2", "PAY-3", "PAY-4"], "first claim \(first)")
            try context.require(second == ["PAY-5", "PAY-6", "PAY-7", "PAY-8"], "second claim \(second)")
            try context.require(third == ["PAY-9", "PAY-10"], "third claim \(third)")
            try context.require(try await context.claim(4).isEmpty, "everything is claimed, yet a claim got entries")
            try context.require(try await context.store.backlog().count == 10, "claimed entries are still pending")
        },
        Check(name: "a drainer that dies between claim and acknowledge loses its claim when the lease ends") { context in
            try await context.store.enqueue(entries(1...3))
            _ = try await context.claim(3, lease: .seconds(30))
            await context.clock.advance(by: .seconds(29))
            try context.require(try await context.claim(3).isEmpty, "a claim took entries under a live lease")
            await context.clock.advance(by: .seconds(2))
            let again = try await context.claim(3)
            try context.require(again == ["PAY-1", "PAY-2", "PAY-3"], "after the lease, the next claim got \(again)")
        },
        Check(name: "acknowledge, dead-letter, a recorded attempt and a release each end a claim") { context in
            try await context.store.enqueue(entries(1...4))
            let batch = try await context.claimBatch(4)
            try context.require(try await context.store.acknowledge([claim(1, in: batch)]) == [key(1)], "acknowledge did not report PAY-1")
            let letter = DeadLetter(entry: batch[1], reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: no", at: Date(), claim: try claim(2, in: batch))
            try context.require(try await context.store.deadLetter([letter]) == [key(2)], "dead-letter did not report PAY-2")
            try await context.store.recordAttempt([claim(3, in: batch)])
            try await context.store.release([claim(4, in: batch)])
            let again = try await context.claim(4)
            try context.require(again == ["PAY-3", "PAY-4"], "after ending the claims, the next claim got \(again)")
            let attempts = try await context.store.pending(limit: 4).first { $0.externalId == "PAY-3" }?.attempts
            try context.require(attempts == 1, "a recorded attempt was not counted (\(String(describing: attempts)))")
            try context.require(try await context.store.backlog().count == 2, "acknowledged or dead-lettered entries still pending")
        },
        Check(name: "with groups kept together, no two drainers hold entries of one group") { context in
            // PAY-1…6 in groups A, B, A, B, C, C.
            let groups = [1: "A", 2: "B", 3: "A", 4: "B", 5: "C", 6: "C"]
            try await context.store.enqueue(entries(1...6) { groups[$0] })
            let firstBatch = try await context.store.claim(limit: 1, lease: .seconds(60), groupsTogether: true)  // PAY-1: group A
            let first = firstBatch.map(\.externalId)
            let second = try await context.claim(10, groups: true)
            try context.require(first == ["PAY-1"], "first claim \(first)")
            try context.require(!second.contains("PAY-3"), "group A went to a second drainer: \(second)")
            try context.require(second == ["PAY-2", "PAY-4", "PAY-5", "PAY-6"], "second claim \(second)")
            try await context.store.acknowledge(firstBatch.claims)
            let third = try await context.claim(10, groups: true)
            try context.require(third == ["PAY-3"], "once group A was free, the claim got \(third)")
        },
        Check(name: "an entry enqueued again while pending keeps its place and takes the newer fields") { context in
            try await context.store.enqueue(entries(1...3))
            var newer = entries(2...2)[0]
            newer.fields = ["Amount__c": .number(99)]
            try await context.store.enqueue([newer])
            let pending = try await context.store.pending(limit: 10)
            try context.require(pending.map(\.externalId) == ["PAY-1", "PAY-2", "PAY-3"], "order \(pending.map(\.externalId))")
            try context.require(pending[1].fields["Amount__c"] == .number(99), "fields \(pending[1].fields)")
            try context.require(pending[1].version > pending[2].version, "the newer enqueue has version \(pending[1].version), not above \(pending[2].version)")
            try context.require(try await context.store.backlog().count == 3, "a duplicate key counted twice")
        },
        Check(name: "an update enqueued while the older version is in flight stays queued and goes out next") { context in
            try await context.store.enqueue(entries(1...2))
            let inFlight = try await context.claimBatch(2)
            var settled = entries(1...1)[0]
            settled.fields = ["Status__c": .string("Settled")]
            try await context.store.enqueue([settled])
            try context.require(try await context.claim(2).isEmpty, "a second drainer got a key whose older version is in flight")
            let removed = try await context.store.acknowledge(inFlight.claims)
            try context.require(removed == [key(2)], "acknowledging the older version removed \(removed)")
            let next = try await context.claimBatch(2)
            try context.require(next.map(\.externalId) == ["PAY-1"], "after the older version was acknowledged, the next claim got \(next.map(\.externalId))")
            try context.require(next[0].fields == settled.fields, "the next claim sent \(next[0].fields), not the newer fields")
            try context.require(try await context.store.acknowledge(next.claims) == [key(1)], "the newer version was not acknowledged")
            try context.require(try await context.store.backlog().count == 0, "entries left after both versions were acknowledged")
        },
        Check(name: "a drainer whose lease ran out changes nothing") { context in
            try await context.store.enqueue(entries(1...4))
            let stale = try await context.claimBatch(4, lease: .seconds(30))
            await context.clock.advance(by: .seconds(31))
            // Nobody claimed again yet: the claim is void all the same.
            try context.require(try await context.store.acknowledge([claim(4, in: stale)]).isEmpty, "a claim whose lease ran out acknowledged PAY-4")
            let live = try await context.claimBatch(4)
            try context.require(live.count == 4, "the next drainer got \(live.map(\.externalId))")
            try context.require(try await context.store.acknowledge([claim(1, in: stale)]).isEmpty, "a stale holder acknowledged PAY-1")
            try await context.store.recordAttempt([claim(2, in: stale)])
            try await context.store.release([claim(3, in: stale)])
            let letter = DeadLetter(entry: stale[0], reason: "late", at: Date(), claim: try claim(1, in: stale))
            try context.require(try await context.store.deadLetter([letter]).isEmpty, "a stale holder dead-lettered PAY-1")
            try context.require(try await context.store.backlog().count == 4, "a stale holder removed entries")
            try context.require(try await context.claim(4).isEmpty, "a stale holder's release freed a live claim")
            let attempts = try await context.store.pending(limit: 4).map(\.attempts)
            try context.require(attempts == [0, 0, 0, 0], "a stale holder's attempt was counted: \(attempts)")
            try context.require(try await context.store.acknowledge(live.claims).count == 4, "the live holder could not acknowledge")
            // A dead letter for an entry acknowledged elsewhere is not recorded.
            try context.require(try await context.store.deadLetter([letter]).isEmpty, "a dead letter was made for an acknowledged entry")
        },
    ]
}
