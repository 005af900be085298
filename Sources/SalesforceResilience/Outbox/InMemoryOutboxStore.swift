import Foundation

/// An ``OutboxStore`` in memory: fast, and lost with the process. For tests and for callers
/// that have their own durability.
public actor InMemoryOutboxStore: OutboxStore {
    private var state = OutboxState()
    private let clock: any ResilienceClock
    /// Entries given up, in order.
    public private(set) var deadLetters: [DeadLetter] = []

    /// Creates an empty store; claims' leases run on `clock`.
    public init(clock: any ResilienceClock = SystemClock()) {
        self.clock = clock
    }

    /// See ``OutboxStore/claim(limit:lease:groupsTogether:)``.
    public func claim(limit: Int, lease: Duration, groupsTogether: Bool) -> OutboxClaimBatch {
        state.claim(limit: limit, now: clock.now, until: clock.now + lease, groupsTogether: groupsTogether)
    }

    /// See ``OutboxStore/release(_:)``.
    public func release(_ claims: [OutboxClaim]) { state.release(claims) }

    /// See ``OutboxStore/enqueue(_:)``.
    public func enqueue(_ new: [OutboxEntry]) {
        state.apply(.enqueue(new.map(StoredEntry.init)))
    }

    /// See ``OutboxStore/pending(limit:)``.
    public func pending(limit: Int) -> [OutboxEntry] { state.pending(limit: limit) }

    /// See ``OutboxStore/acknowledge(_:)``.
    @discardableResult
    public func acknowledge(_ claims: [OutboxClaim]) -> [String] {
        let keys = state.settle(claims, now: clock.now)
        state.apply(.acknowledge(keys))
        return keys
    }

    /// See ``OutboxStore/recordAttempt(_:)``.
    public func recordAttempt(_ claims: [OutboxClaim]) { state.apply(.attempt(state.settle(claims, now: clock.now))) }

    /// See ``OutboxStore/deadLetter(_:)``.
    @discardableResult
    public func deadLetter(_ letters: [DeadLetter]) -> [String] {
        let taken = state.settle(letters, now: clock.now)
        deadLetters += taken
        let keys = taken.map(\.entry.key)
        state.apply(.deadLetter(keys))
        return keys
    }

    /// See ``OutboxStore/backlog()``.
    public func backlog() -> (count: Int, oldest: Date?) {
        state.backlog
    }
}
