import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

/// A store that hands every call to `inner` once `before` has seen it: the one wrapper behind
/// the tests' faulty stores. The hook counts calls, or throws as a full disk or a crash would.
struct InterceptedOutboxStore: OutboxStore {
    enum Call: Sendable, Hashable { case enqueue, pending, claim, release, acknowledge, recordAttempt, deadLetter, backlog }

    let inner: any OutboxStore
    let before: @Sendable (Call) throws -> Void

    func enqueue(_ entries: [OutboxEntry]) async throws {
        try before(.enqueue)
        try await inner.enqueue(entries)
    }
    func pending(limit: Int) async throws -> [OutboxEntry] {
        try before(.pending)
        return try await inner.pending(limit: limit)
    }
    func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> OutboxClaimBatch {
        try before(.claim)
        return try await inner.claim(limit: limit, lease: lease, groupsTogether: groupsTogether)
    }
    func release(_ claims: [OutboxClaim]) async throws {
        try before(.release)
        try await inner.release(claims)
    }
    func acknowledge(_ claims: [OutboxClaim]) async throws -> [String] {
        try before(.acknowledge)
        return try await inner.acknowledge(claims)
    }
    func recordAttempt(_ claims: [OutboxClaim]) async throws {
        try before(.recordAttempt)
        try await inner.recordAttempt(claims)
    }
    func deadLetter(_ letters: [DeadLetter]) async throws -> [String] {
        try before(.deadLetter)
        return try await inner.deadLetter(letters)
    }
    func backlog() async throws -> (count: Int, oldest: Date?) {
        try before(.backlog)
        return try await inner.backlog()
    }

    /// Throws `error` from the `call` numbered past `healthy` onward (0: from the first).
    static func failing(_ call: Call, after healthy: Int, with error: any Error & Sendable, _ inner: any OutboxStore) -> InterceptedOutboxStore {
        let seen = Lock(0)
        return InterceptedOutboxStore(inner: inner) { made in
            guard made == call else { return }
            if seen.withLock({ count in count += 1; return count }) > healthy { throw error }
        }
    }
}
