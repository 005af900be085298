#if PubSub // the package trait that brings SalesforceResiliencePubSub
import Foundation
import SalesforceResiliencePubSub

/// The contract every ``ReplayStore`` keeps, written once as checks any store can run:
/// ``InMemoryReplayStore``, ``FileReplayStore``, `PostgresReplayStore`, your own.
///
/// - an unknown topic has no checkpoint;
/// - a saved checkpoint reads back whole (replay id byte for byte, recent event ids in order,
///   the time to the millisecond), and a later save of the topic replaces it;
/// - topics are independent;
/// - concurrent saves of many topics all land, and concurrent saves of one topic leave one of
///   them whole, never a mix of two.
///
/// ```swift
/// @Test(arguments: ReplayStoreConformance.checks)
/// func conforms(_ check: ReplayStoreConformance.Check) async throws {
///     try await check.run { MyReplayStore() }
/// }
/// ```
public enum ReplayStoreConformance {
    /// Builds an empty store.
    public typealias MakeStore = @Sendable () async throws -> any ReplayStore

    /// A broken promise: which check, and what happened instead.
    public typealias Violation = StoreConformanceViolation

    /// One promise of the contract.
    public struct Check: Sendable, CustomStringConvertible {
        /// What it checks.
        public let name: String
        let body: @Sendable (String, any ReplayStore) async throws -> Void

        /// Runs the check against a store `make` builds; throws ``Violation`` when it breaks the promise.
        public func run(_ make: @escaping MakeStore) async throws {
            try await body(name, try await make())
        }

        /// The name.
        public var description: String { name }
    }

    /// A checkpoint whose parts all say `n`: a replay id with bytes a text store would mangle.
    static func checkpoint(_ n: Int) -> ReplayCheckpoint {
        ReplayCheckpoint(replayID: Data([0x00, 0xFF, 0x0A, UInt8(n % 256), UInt8(n / 256)]), recentEventIDs: (0...(n % 4)).map { "e-\(n)-\($0)" },
                         savedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(n) / 1_000))
    }

    static func require(_ check: String, _ condition: Bool, _ detail: @autoclosure () -> String) throws {
        if !condition { throw Violation(check: check, detail: detail()) }
    }

    /// Every check.
    public static let checks: [Check] = [
        Check(name: "an unknown topic has no checkpoint") { name, store in
            let found = try await store.checkpoint(for: "/event/Unknown__e")
            try require(name, found == nil, "found \(String(describing: found))")
        },
        Check(name: "a checkpoint reads back whole and a later save replaces it") { name, store in
            try await store.save(checkpoint(1), for: "/event/A__e")
            let first = try await store.checkpoint(for: "/event/A__e")
            try require(name, first == checkpoint(1), "read \(String(describing: first)), saved \(checkpoint(1))")
            try await store.save(checkpoint(2), for: "/event/A__e")
            let second = try await store.checkpoint(for: "/event/A__e")
            try require(name, second == checkpoint(2), "read \(String(describing: second)) after saving \(checkpoint(2))")
        },
        Check(name: "topics are independent") { name, store in
            try await store.save(checkpoint(3), for: "/event/A__e")
            try await store.save(checkpoint(4), for: "/data/AccountChangeEvent")
            let a = try await store.checkpoint(for: "/event/A__e")
            let b = try await store.checkpoint(for: "/data/AccountChangeEvent")
            try require(name, a == checkpoint(3) && b == checkpoint(4), "read \(String(describing: a)) and \(String(describing: b))")
        },
        Check(name: "concurrent saves of many topics all land") { name, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for topic in 0..<16 {
                    group.addTask { for n in 1...5 { try await store.save(checkpoint(topic * 10 + n), for: "/event/T\(topic)__e") } }
                }
                try await group.waitForAll()
            }
            for topic in 0..<16 {
                let found = try await store.checkpoint(for: "/event/T\(topic)__e")
                try require(name, found == checkpoint(topic * 10 + 5), "topic \(topic): \(String(describing: found))")
            }
        },
        Check(name: "concurrent saves of one topic leave one of them whole") { name, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 100..<116 { group.addTask { try await store.save(checkpoint(n), for: "/event/Race__e") } }
                try await group.waitForAll()
            }
            let found = try await store.checkpoint(for: "/event/Race__e")
            try require(name, (100..<116).contains { found == checkpoint($0) }, "a mix of saves: \(String(describing: found))")
        },
    ]
}
#endif
