import Foundation

/// A drainer's hold on one version of one entry: what ``OutboxStore/acknowledge(_:)``,
/// ``OutboxStore/recordAttempt(_:)``, ``OutboxStore/release(_:)`` and
/// ``OutboxStore/deadLetter(_:)`` name, so that they act only while that holder still holds the
/// key, and remove the entry only at that version.
public struct OutboxClaim: Sendable, Hashable, Codable {
    /// The entry's ``OutboxEntry/key``.
    public var key: String
    /// The ``OutboxEntry/version`` that was claimed (and sent).
    public var version: Int64
    /// Who holds it: unique to one ``OutboxStore/claim(limit:lease:groupsTogether:)`` call.
    public var holder: String

    /// Creates a claim.
    public init(key: String, version: Int64, holder: String) {
        self.key = key
        self.version = version
        self.holder = holder
    }
}

/// What one ``OutboxStore/claim(limit:lease:groupsTogether:)`` handed out: entries, oldest
/// first, each at the version it had, and the holder name that settles them.
public struct OutboxClaimBatch: Sendable, Hashable, RandomAccessCollection {
    /// The claimed entries.
    public var entries: [OutboxEntry]
    /// The name this claim holds its entries under.
    public var holder: String

    /// Creates a batch.
    public init(entries: [OutboxEntry], holder: String) {
        self.entries = entries
        self.holder = holder
    }

    /// The claim on `entry` (one of ``entries``).
    public func claim(_ entry: OutboxEntry) -> OutboxClaim {
        OutboxClaim(key: entry.key, version: entry.version, holder: holder)
    }

    /// The claims on every entry.
    public var claims: [OutboxClaim] { entries.map(claim) }

    /// The first index.
    public var startIndex: Int { entries.startIndex }
    /// The index past the last.
    public var endIndex: Int { entries.endIndex }
    /// The entry at `position`.
    public subscript(position: Int) -> OutboxEntry { entries[position] }
}

/// Where outbox entries wait. The embedded default is ``FileJournalOutboxStore``; a store backed
/// by PostgreSQL (`FOR UPDATE SKIP LOCKED`, Examples/PaymentService), SQS or Kafka lets many
/// workers share the work (see Docs/ScalingOut.md).
///
/// The delivery contract, the same for every store (``OutboxStoreConformance`` checks it):
/// - Every enqueue of a key makes a new ``OutboxEntry/version``; the newest fields win.
/// - ``claim(limit:lease:groupsTogether:)`` hands out entries no live lease holds, oldest first,
///   each under a holder name unique to that claim, until the lease runs out (its drainer died).
///   A key stays held across a newer enqueue, so two versions of one key are never in flight at
///   once.
/// - Acknowledge, attempt, release and dead-letter act only while the claim's holder still holds
///   the key with a live lease: a drainer that lost its lease changes nothing. Acknowledge and
///   dead-letter remove the entry only at the claimed version; for a key enqueued again since,
///   they end the claim and the newer version stays queued for the next claim.
public protocol OutboxStore: Sendable {
    /// Adds entries durably; an entry with the key of a pending one replaces its fields as a new
    /// version, keeping its place (and its attempt count, the higher of the two).
    func enqueue(_ entries: [OutboxEntry]) async throws
    /// Up to `limit` pending entries, oldest first, claimed or not (for inspection).
    func pending(limit: Int) async throws -> [OutboxEntry]
    /// Claims up to `limit` pending entries that no live lease holds, oldest first, for `lease`.
    /// With `groupsTogether`, entries of a ``OutboxEntry/group`` another drainer holds are left
    /// for later. (There is no default: a store must not share its work by accident.)
    func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> OutboxClaimBatch
    /// Gives claimed entries back unchanged (claimed but not sent).
    func release(_ claims: [OutboxClaim]) async throws
    /// Removes delivered entries, each only at its claimed version and while still held.
    ///
    /// - Returns: the keys removed.
    @discardableResult
    func acknowledge(_ claims: [OutboxClaim]) async throws -> [String]
    /// Records a failed attempt for each claimed version still held (the attempt count survives
    /// restarts) and ends the claim.
    func recordAttempt(_ claims: [OutboxClaim]) async throws
    /// Moves entries to the dead letters, each only under the conditions of acknowledge (see
    /// ``DeadLetter/claim``); nothing is recorded for one that did not take effect.
    ///
    /// - Returns: the keys dead-lettered.
    @discardableResult
    func deadLetter(_ letters: [DeadLetter]) async throws -> [String]
    /// The number of pending entries and the oldest one's enqueue date.
    func backlog() async throws -> (count: Int, oldest: Date?)
}
