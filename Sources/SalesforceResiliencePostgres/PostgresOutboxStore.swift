#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import Logging
import PostgresNIO
import SalesforceResilience

/// An ``OutboxStore`` in PostgreSQL that any number of workers, on any number of machines,
/// drain together.
///
/// A claim is one statement: the oldest unleased rows, `FOR UPDATE SKIP LOCKED` so concurrent
/// claims pass each other instead of waiting, marked with a lease (until when, by whom). A
/// worker that dies leaves its lease to run out; the rows return to the queue with their attempt
/// counts. Every operation on a batch is one round trip (arrays, `UNNEST`). With groups kept
/// together, claims are serialised by a transaction-level advisory lock and skip the groups
/// another lease holds, so two workers never write records of one parent at once.
///
/// Every enqueue of a key raises its `version`; a claim marks its rows with a holder name unique
/// to that claim (`leased_by`, the worker's name and a random suffix). Acknowledge, attempt,
/// release and dead-letter are conditional on the holder still holding the row under a live
/// lease, and delete only the claimed version: a worker that lost its lease changes nothing, and
/// an update enqueued while the older version was in flight stays queued.
///
/// Lease times come from the database's `now()`, one clock for the whole fleet, so a worker
/// whose own clock is off neither steals live leases nor keeps dead ones. (Tests may pass a
/// `clock` instead.)
public struct PostgresOutboxStore: OutboxStore {
    /// The database.
    public let database: FleetDatabase
    /// This worker's name in `leased_by`.
    public let worker: String
    private let clock: (any ResilienceClock)?

    /// Creates a store; run ``FleetDatabase/migrate()`` first.
    ///
    /// - Parameter clock: where lease times come from; `nil` (the default) is the database's
    ///   `now()`. A test passes a virtual clock.
    public init(database: FleetDatabase, worker: String = PostgresOutboxStore.defaultWorkerName, clock: (any ResilienceClock)? = nil) {
        self.database = database
        self.worker = worker
        self.clock = clock
    }

    /// The time leases are measured on, as a bind for `COALESCE(…, now())`: `nil` means the
    /// database's own clock.
    private var now: Date? { clock?.wallClockNow }

    /// `host:pid`.
    public static var defaultWorkerName: String { "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)" }

    private var logger: Logger { database.logger }
    private var outbox: String { database.table("outbox") }

    /// Inserts or updates (newer fields, the higher attempt count) every entry, in one statement.
    public func enqueue(_ entries: [OutboxEntry]) async throws {
        try await database.bounded("enqueue") { [self] in
            try await insert(entries, on: nil)
        }
    }

    /// Enqueues `entries` as items `range` of a sequence many producers share (a job's
    /// payments), only if no producer has gone past `range.lowerBound - 1`: one transaction, so
    /// the entries and the sequence's progress are written together or not at all.
    ///
    /// - Returns: `false` (and nothing written) if another producer already moved the sequence.
    public func enqueue(_ entries: [OutboxEntry], producing range: ClosedRange<Int>, of sequence: String) async throws -> Bool {
        return try await database.bounded("enqueue") { [self] in
            let table = database.table("sequences")
            let previous = Int64(range.lowerBound - 1)
            let last = Int64(range.upperBound)
            return try await FleetDatabase.unwrappingTransactionErrors {
                try await database.client.withTransaction(logger: logger) { connection in
                    try await connection.query("INSERT INTO \(unescaped: table) (name, produced) VALUES (\(sequence), 0) ON CONFLICT DO NOTHING", logger: logger)
                    let moved = try await connection.query(
                        "UPDATE \(unescaped: table) SET produced = \(last) WHERE name = \(sequence) AND produced = \(previous) RETURNING produced",
                        logger: logger).collect()
                    guard !moved.isEmpty else { return false }
                    try await insert(entries, on: connection)
                    return true
                }
            }
        }
    }

    /// How many items of `sequence` have been enqueued (0 if none).
    public func produced(of sequence: String) async throws -> Int {
        return try await database.bounded("produced") { [self] in
            let rows = try await database.client.query(
                "SELECT produced FROM \(unescaped: database.table("sequences")) WHERE name = \(sequence)", logger: logger)
            for try await produced in rows.decode(Int64.self) { return Int(produced) }
            return 0
        }
    }

    private func insert(_ entries: [OutboxEntry], on connection: PostgresConnection?) async throws {
        // The last of several entries with one key wins, as if they were enqueued one by one.
        var latest: [String: Int] = [:]
        for (index, entry) in entries.enumerated() { latest[entry.key] = index }
        let unique = entries.indices.filter { latest[entries[$0].key] == $0 }.map { entries[$0] }
        guard !unique.isEmpty else { return }
        let encoder = JSONEncoder()
        let fields = try unique.map { String(decoding: try encoder.encode($0.fields), as: UTF8.self) }
        let statement: PostgresQuery = """
            INSERT INTO \(unescaped: outbox) (key, sobject, external_id_field, external_id, fields, enqueued_at, attempts, group_key)
            SELECT k, s, f, e, d::jsonb, t, a, NULLIF(g, '')
            FROM UNNEST(\(unique.map(\.key)), \(unique.map(\.sobject)), \(unique.map(\.externalIdField)), \(unique.map(\.externalId)),
                        \(fields), \(unique.map(\.enqueuedAt)), \(unique.map { Int64($0.attempts) }), \(unique.map { $0.group ?? "" }))
                WITH ORDINALITY AS u(k, s, f, e, d, t, a, g, n)
            ORDER BY n
            ON CONFLICT (key) DO UPDATE SET fields = EXCLUDED.fields, attempts = GREATEST(\(unescaped: outbox).attempts, EXCLUDED.attempts),
                group_key = EXCLUDED.group_key, version = \(unescaped: outbox).version + 1
            """
        if let connection {
            try await connection.query(statement, logger: logger)
        } else {
            try await database.client.query(statement, logger: logger)
        }
    }

    /// The oldest pending entries, claimed or not.
    public func pending(limit: Int) async throws -> [OutboxEntry] {
        return try await database.bounded("pending") { [self] in
            let rows = try await database.client.query("""
                SELECT seq, sobject, external_id_field, external_id, fields::text, enqueued_at, attempts, group_key, version
                FROM \(unescaped: outbox) ORDER BY seq LIMIT \(Int64(max(0, limit)))
                """, logger: logger)
            return try await Self.entries(rows)
        }
    }

    /// Claims the oldest entries no live lease holds; see ``OutboxStore/claim(limit:lease:groupsTogether:)``.
    public func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> OutboxClaimBatch {
        return try await database.bounded("claim") { [self] in
            let holder = "\(worker)#\(UUID().uuidString.prefix(12))"
            let seconds = Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18
            let groupFilter = groupsTogether
                ? "AND (o.group_key IS NULL OR NOT EXISTS (SELECT 1 FROM \(outbox) h WHERE h.group_key = o.group_key AND h.lease_until > t.now))"
                : ""
            var binds = PostgresBindings()
            binds.append(now)
            binds.append(Int64(max(0, limit)))
            binds.append(seconds)
            binds.append(holder)
            let statement = PostgresQuery(unsafeSQL: """
                WITH t AS (SELECT COALESCE($1::timestamptz, now()) AS now),
                picked AS (
                    SELECT o.key FROM \(outbox) o, t
                    WHERE (o.lease_until IS NULL OR o.lease_until <= t.now) \(groupFilter)
                    ORDER BY o.seq LIMIT $2 FOR UPDATE OF o SKIP LOCKED)
                UPDATE \(outbox) SET lease_until = (SELECT now FROM t) + make_interval(secs => $3), leased_by = $4
                FROM picked WHERE \(outbox).key = picked.key
                RETURNING seq, sobject, external_id_field, external_id, fields::text, enqueued_at, attempts, group_key, version
                """, binds: binds)
            let claimed: [OutboxEntry]
            if groupsTogether {
                claimed = try await FleetDatabase.unwrappingTransactionErrors {
                    try await database.client.withTransaction(logger: logger) { connection in
                        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(outbox)))", logger: logger)
                        return try await Self.entries(try await connection.query(statement, logger: logger))
                    }
                }
            } else {
                claimed = try await Self.entries(try await database.client.query(statement, logger: logger))
            }
            return OutboxClaimBatch(entries: claimed, holder: holder)
        }
    }

    /// The claims as arrays for `UNNEST`, and the condition that a row is still held by its claim.
    private static func columns(_ claims: [OutboxClaim]) -> (keys: [String], versions: [Int64], holders: [String]) {
        (claims.map(\.key), claims.map(\.version), claims.map(\.holder))
    }

    /// Ends the claims that still hold their rows.
    public func release(_ claims: [OutboxClaim]) async throws {
        try await database.bounded("release") { [self] in
            guard !claims.isEmpty else { return }
            let (keys, _, holders) = Self.columns(claims)
            try await database.client.query("""
                UPDATE \(unescaped: outbox) o SET lease_until = NULL, leased_by = NULL
                FROM UNNEST(\(keys), \(holders)) AS c(k, h) WHERE o.key = c.k AND o.leased_by = c.h
                """, logger: logger)
        }
    }

    /// Deletes delivered entries at their claimed versions; ends the claims on newer versions.
    @discardableResult
    public func acknowledge(_ claims: [OutboxClaim]) async throws -> [String] {
        return try await database.bounded("acknowledge") { [self] in
            guard !claims.isEmpty else { return [] }
            let (keys, versions, holders) = Self.columns(claims)
            let rows = try await database.client.query("""
                WITH t AS (SELECT COALESCE(\(now)::timestamptz, now()) AS now),
                c AS (SELECT * FROM UNNEST(\(keys), \(versions), \(holders)) AS c(k, v, h)),
                newer AS (
                    UPDATE \(unescaped: outbox) o SET lease_until = NULL, leased_by = NULL FROM c, t
                    WHERE o.key = c.k AND o.leased_by = c.h AND o.lease_until > t.now AND o.version <> c.v RETURNING o.key),
                gone AS (
                    DELETE FROM \(unescaped: outbox) o USING c, t
                    WHERE o.key = c.k AND o.leased_by = c.h AND o.lease_until > t.now AND o.version = c.v RETURNING o.key)
                SELECT key FROM gone
                """, logger: logger)
            var removed: [String] = []
            for try await key in rows.decode(String.self) { removed.append(key) }
            return removed
        }
    }

    /// Counts an attempt on each claimed version still held, and ends the claims.
    public func recordAttempt(_ claims: [OutboxClaim]) async throws {
        try await database.bounded("recordAttempt") { [self] in
            guard !claims.isEmpty else { return }
            let (keys, versions, holders) = Self.columns(claims)
            try await database.client.query("""
                WITH t AS (SELECT COALESCE(\(now)::timestamptz, now()) AS now)
                UPDATE \(unescaped: outbox) o
                SET attempts = attempts + CASE WHEN o.version = c.v THEN 1 ELSE 0 END, lease_until = NULL, leased_by = NULL
                FROM UNNEST(\(keys), \(versions), \(holders)) AS c(k, v, h), t
                WHERE o.key = c.k AND o.leased_by = c.h AND o.lease_until > t.now
                """, logger: logger)
        }
    }

    /// Moves entries to the dead letters in one statement: each only at its claimed version while
    /// still held (a letter without a claim: whatever version is pending).
    @discardableResult
    public func deadLetter(_ letters: [DeadLetter]) async throws -> [String] {
        return try await database.bounded("deadLetter") { [self] in
            guard !letters.isEmpty else { return [] }
            let encoder = JSONEncoder()
            let entries = try letters.map { String(decoding: try encoder.encode($0.entry), as: UTF8.self) }
            let keys = letters.map(\.entry.key)
            let versions = letters.map { $0.claim?.version ?? -1 }
            let holders = letters.map { $0.claim?.holder ?? "" }
            let rows = try await database.client.query("""
                WITH t AS (SELECT COALESCE(\(now)::timestamptz, now()) AS now),
                c AS (SELECT * FROM UNNEST(\(keys), \(versions), \(holders), \(entries), \(letters.map(\.reason)), \(letters.map(\.at)))
                      AS c(k, v, h, e, r, a)),
                newer AS (
                    UPDATE \(unescaped: outbox) o SET lease_until = NULL, leased_by = NULL FROM c, t
                    WHERE c.h <> '' AND o.key = c.k AND o.leased_by = c.h AND o.lease_until > t.now AND o.version <> c.v RETURNING o.key),
                gone AS (
                    DELETE FROM \(unescaped: outbox) o USING c, t
                    WHERE o.key = c.k AND (c.h = '' OR (o.leased_by = c.h AND o.lease_until > t.now AND o.version = c.v)) RETURNING o.key)
                INSERT INTO \(unescaped: database.table("dead_letters")) (key, entry, reason, at)
                SELECT c.k, c.e::jsonb, c.r, c.a FROM c JOIN gone ON gone.key = c.k
                RETURNING key
                """, logger: logger)
            var lettered: [String] = []
            for try await key in rows.decode(String.self) { lettered.append(key) }
            return lettered
        }
    }

    /// The dead letters, oldest first.
    public func deadLetters() async throws -> [DeadLetter] {
        return try await database.bounded("deadLetters") { [self] in
            let rows = try await database.client.query(
                "SELECT entry::text, reason, at FROM \(unescaped: database.table("dead_letters")) ORDER BY id", logger: logger)
            var letters: [DeadLetter] = []
            for try await (entry, reason, at) in rows.decode((String, String, Date).self) {
                letters.append(DeadLetter(entry: try JSONDecoder().decode(OutboxEntry.self, from: Data(entry.utf8)), reason: reason, at: at))
            }
            return letters
        }
    }

    /// The number of entries and the oldest one's enqueue date.
    public func backlog() async throws -> (count: Int, oldest: Date?) {
        return try await database.bounded("backlog") { [self] in
            let rows = try await database.client.query("SELECT count(*), min(enqueued_at) FROM \(unescaped: outbox)", logger: logger)
            for try await (count, oldest) in rows.decode((Int64, Date?).self) { return (Int(count), oldest) }
            return (0, nil)
        }
    }

    static func entries(_ rows: PostgresRowSequence) async throws -> [OutboxEntry] {
        var found: [(Int64, OutboxEntry)] = []
        let decoder = JSONDecoder()
        for try await (seq, sobject, field, id, fields, enqueuedAt, attempts, group, version) in rows.decode(
            (Int64, String, String, String, String, Date, Int64, String?, Int64).self) {
            let values = try decoder.decode([String: JSONValue].self, from: Data(fields.utf8))
            var entry = OutboxEntry(sobject: sobject, externalIdField: field, externalId: id, fields: values, enqueuedAt: enqueuedAt,
                                    attempts: Int(clamping: attempts), group: group)
            entry.version = version
            found.append((seq, entry))
        }
        // UPDATE … RETURNING gives no order: the queue's is by sequence.
        return found.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
#endif
