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
/// - an entry enqueued again while pending keeps one place and the newer fields.
///
/// Run it from a test, once per check, with a fresh store on the given clock each time:
/// ```swift
/// @Test(arguments: OutboxStoreConformance.checks)
/// func conforms(_ check: OutboxStoreConformance.Check) async throws {
///     try await check.run { clock in MyStore(clock: clock) }
/// }
/// ```
public enum OutboxStoreConformance {
    /// Builds an empty store whose leases run on `clock`.
    public typealias MakeStore = @Sendable (VirtualClock) async throws -> any OutboxStore

    /// A broken promise: which check, and what happened instead.
    public struct Violation: Error, CustomStringConvertible {
        /// The check's name.
        public var check: String
        /// What the store did.
        public var detail: String
        /// `check: detail`.
        public var description: String { "\(check): \(detail)" }
    }

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
    }

    /// Entries `PAY-1`…, in order, optionally in groups.
    static func entries(_ range: ClosedRange<Int>, group: (Int) -> String? = { _ in nil }) -> [OutboxEntry] {
        range.map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                        enqueuedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(n)), group: group(n))
        }
    }

    static func key(_ n: Int) -> String { "Payment__c/Reference__c/PAY-\(n)" }

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
            _ = try await context.claim(4)
            try await context.store.acknowledge([key(1)])
            try await context.store.deadLetter([DeadLetter(entry: entries(2...2)[0], reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: no", at: Date())])
            try await context.store.recordAttempt([key(3)])
            try await context.store.release([key(4)])
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
            let first = try await context.claim(1, groups: true)  // PAY-1: group A
            let second = try await context.claim(10, groups: true)
            try context.require(first == ["PAY-1"], "first claim \(first)")
            try context.require(!second.contains("PAY-3"), "group A went to a second drainer: \(second)")
            try context.require(second == ["PAY-2", "PAY-4", "PAY-5", "PAY-6"], "second claim \(second)")
            try await context.store.acknowledge([key(1)])
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
            try context.require(try await context.store.backlog().count == 3, "a duplicate key counted twice")
        },
    ]
}
