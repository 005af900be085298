import Foundation

/// A record waiting to be upserted by external id.
public struct OutboxEntry: Sendable, Hashable, Codable {
    /// The sObject type, such as `Payment__c`.
    public var sobject: String
    /// The external id field, such as `Reference__c`.
    public var externalIdField: String
    /// The external id value: the entry's identity in the outbox. Enqueuing the same value
    /// twice keeps the newer fields; delivery is at-least-once and idempotent by this value.
    public var externalId: String
    /// The record's fields (without the external id field).
    public var fields: [String: JSONValue]
    /// When it was first enqueued.
    public var enqueuedAt: Date
    /// Delivery attempts so far.
    public var attempts: Int
    /// The record's parent (an account, a customer), if it has one that writes lock: claims
    /// asked to keep groups together never hand entries of one group to two drainers at once,
    /// which keeps `UNABLE_TO_LOCK_ROW` down.
    public var group: String?

    /// Creates an entry.
    public init(sobject: String, externalIdField: String, externalId: String, fields: [String: JSONValue], enqueuedAt: Date, attempts: Int = 0,
                group: String? = nil) {
        self.sobject = sobject
        self.externalIdField = externalIdField
        self.externalId = externalId
        self.fields = fields
        self.enqueuedAt = enqueuedAt
        self.attempts = attempts
        self.group = group
    }

    /// The key entries are identified by: type, field and value.
    public var key: String { "\(sobject)/\(externalIdField)/\(externalId)" }
}

/// An entry that will not be delivered, with the reason.
public struct DeadLetter: Sendable, Hashable, Codable {
    /// The entry.
    public var entry: OutboxEntry
    /// Why it was given up (the Salesforce error code and message).
    public var reason: String
    /// When it was given up.
    public var at: Date

    /// Creates a dead letter.
    public init(entry: OutboxEntry, reason: String, at: Date) {
        self.entry = entry
        self.reason = reason
        self.at = at
    }
}

/// Where outbox entries wait. The embedded default is ``FileJournalOutboxStore``; a store backed
/// by PostgreSQL (`FOR UPDATE SKIP LOCKED`, Examples/PaymentService), SQS or Kafka lets many
/// workers share the work (see Docs/ScalingOut.md).
///
/// Drainers take work with ``claim(limit:lease:groupsTogether:)``: each claimed entry is held
/// for its drainer until it is acknowledged, attempted, dead-lettered, released, or its lease
/// runs out (the drainer died), and no other drainer gets it meanwhile.
public protocol OutboxStore: Sendable {
    /// Adds entries durably; an entry with the key of a pending one replaces it.
    func enqueue(_ entries: [OutboxEntry]) async throws
    /// Up to `limit` pending entries, oldest first, claimed or not (for inspection).
    func pending(limit: Int) async throws -> [OutboxEntry]
    /// Claims up to `limit` pending entries that no other drainer holds, oldest first, for
    /// `lease`. With `groupsTogether`, entries of a ``OutboxEntry/group`` another drainer holds
    /// are left for later. (A store that only ever has one drainer may return
    /// ``pending(limit:)``; there is no default, so that no store shares its work by accident.)
    func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> [OutboxEntry]
    /// Gives claimed entries back unchanged (claimed but not sent).
    func release(_ keys: [String]) async throws
    /// Removes delivered entries by key.
    func acknowledge(_ keys: [String]) async throws
    /// Records a failed attempt for each key (the attempt count survives restarts) and releases it.
    func recordAttempt(_ keys: [String]) async throws
    /// Moves an entry to the dead letters and out of the pending set.
    func deadLetter(_ letters: [DeadLetter]) async throws
    /// The number of pending entries and the oldest one's enqueue date.
    func backlog() async throws -> (count: Int, oldest: Date?)
}

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
    public func claim(limit: Int, lease: Duration, groupsTogether: Bool) -> [OutboxEntry] {
        state.claim(limit: limit, now: clock.now, until: clock.now + lease, groupsTogether: groupsTogether)
    }

    /// See ``OutboxStore/release(_:)``.
    public func release(_ keys: [String]) { state.release(keys) }

    /// See ``OutboxStore/enqueue(_:)``.
    public func enqueue(_ new: [OutboxEntry]) {
        state.apply(.enqueue(new))
    }

    /// See ``OutboxStore/pending(limit:)``.
    public func pending(limit: Int) -> [OutboxEntry] { state.pending(limit: limit) }

    /// See ``OutboxStore/acknowledge(_:)``.
    public func acknowledge(_ keys: [String]) { state.apply(.acknowledge(keys)) }

    /// See ``OutboxStore/recordAttempt(_:)``.
    public func recordAttempt(_ keys: [String]) { state.apply(.attempt(keys)) }

    /// See ``OutboxStore/deadLetter(_:)``.
    public func deadLetter(_ letters: [DeadLetter]) {
        deadLetters += letters
        state.apply(.deadLetter(letters.map(\.entry.key)))
    }

    /// See ``OutboxStore/backlog()``.
    public func backlog() -> (count: Int, oldest: Date?) {
        (state.entries.count, state.pending(limit: 1).first?.enqueuedAt)
    }
}
