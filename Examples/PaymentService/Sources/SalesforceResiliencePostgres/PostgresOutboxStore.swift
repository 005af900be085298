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
/// Lease times come from `clock` (the system clock, in production): machines of a fleet need
/// clocks within a small part of a lease of each other, as NTP keeps them.
public struct PostgresOutboxStore: OutboxStore {
    /// The database.
    public let database: FleetDatabase
    /// This worker's name in `leased_by`.
    public let worker: String
    private let clock: any ResilienceClock

    /// Creates a store; run ``FleetDatabase/migrate()`` first.
    public init(database: FleetDatabase, worker: String = PostgresOutboxStore.defaultWorkerName, clock: any ResilienceClock = SystemClock()) {
        self.database = database
        self.worker = worker
        self.clock = clock
    }

    /// `host:pid`.
    public static var defaultWorkerName: String { "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)" }

    private var logger: Logger { database.logger }
    private var outbox: String { database.table("outbox") }

    /// Inserts or updates (newer fields, the higher attempt count) every entry, in one statement.
    public func enqueue(_ entries: [OutboxEntry]) async throws {
        try await insert(entries, on: nil)
    }

    /// Enqueues `entries` as items `range` of a sequence many producers share (a job's
    /// payments), only if no producer has gone past `range.lowerBound - 1`: one transaction, so
    /// the entries and the sequence's progress are written together or not at all.
    ///
    /// - Returns: `false` (and nothing written) if another producer already moved the sequence.
    public func enqueue(_ entries: [OutboxEntry], producing range: ClosedRange<Int>, of sequence: String) async throws -> Bool {
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

    /// How many items of `sequence` have been enqueued (0 if none).
    public func produced(of sequence: String) async throws -> Int {
        let rows = try await database.client.query(
            "SELECT produced FROM \(unescaped: database.table("sequences")) WHERE name = \(sequence)", logger: logger)
        for try await produced in rows.decode(Int64.self) { return Int(produced) }
        return 0
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
                group_key = EXCLUDED.group_key
            """
        if let connection {
            try await connection.query(statement, logger: logger)
        } else {
            try await database.client.query(statement, logger: logger)
        }
    }

    /// The oldest pending entries, claimed or not.
    public func pending(limit: Int) async throws -> [OutboxEntry] {
        let rows = try await database.client.query("""
            SELECT seq, sobject, external_id_field, external_id, fields::text, enqueued_at, attempts, group_key
            FROM \(unescaped: outbox) ORDER BY seq LIMIT \(Int64(max(0, limit)))
            """, logger: logger)
        return try await Self.entries(rows)
    }

    /// Claims the oldest entries no live lease holds; see ``OutboxStore/claim(limit:lease:groupsTogether:)``.
    public func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> [OutboxEntry] {
        let now = clock.wallClockNow
        let until = now.addingTimeInterval(Double(lease.components.seconds) + Double(lease.components.attoseconds) / 1e18)
        let worker = self.worker
        let groupFilter = groupsTogether
            ? "AND (o.group_key IS NULL OR NOT EXISTS (SELECT 1 FROM \(outbox) h WHERE h.group_key = o.group_key AND h.lease_until > $1))"
            : ""
        let statement = PostgresQuery(unsafeSQL: """
            WITH picked AS (
                SELECT o.key FROM \(outbox) o
                WHERE (o.lease_until IS NULL OR o.lease_until <= $1) \(groupFilter)
                ORDER BY o.seq LIMIT $2 FOR UPDATE SKIP LOCKED)
            UPDATE \(outbox) SET lease_until = $3, leased_by = $4 FROM picked WHERE \(outbox).key = picked.key
            RETURNING seq, sobject, external_id_field, external_id, fields::text, enqueued_at, attempts, group_key
            """, binds: try Self.binds(now, Int64(max(0, limit)), until, worker))
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
        return claimed
    }

    /// Ends the claims on `keys`.
    public func release(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await database.client.query(
            "UPDATE \(unescaped: outbox) SET lease_until = NULL, leased_by = NULL WHERE key = ANY(\(keys))", logger: logger)
    }

    /// Deletes delivered entries.
    public func acknowledge(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await database.client.query("DELETE FROM \(unescaped: outbox) WHERE key = ANY(\(keys))", logger: logger)
    }

    /// Counts an attempt and ends the claim.
    public func recordAttempt(_ keys: [String]) async throws {
        guard !keys.isEmpty else { return }
        try await database.client.query("""
            UPDATE \(unescaped: outbox) SET attempts = attempts + 1, lease_until = NULL, leased_by = NULL WHERE key = ANY(\(keys))
            """, logger: logger)
    }

    /// Moves entries to the dead letters, in one statement.
    public func deadLetter(_ letters: [DeadLetter]) async throws {
        guard !letters.isEmpty else { return }
        let encoder = JSONEncoder()
        let entries = try letters.map { String(decoding: try encoder.encode($0.entry), as: UTF8.self) }
        let keys = letters.map(\.entry.key)
        try await database.client.query("""
            WITH gone AS (DELETE FROM \(unescaped: outbox) WHERE key = ANY(\(keys)) RETURNING key)
            INSERT INTO \(unescaped: database.table("dead_letters")) (key, entry, reason, at)
            SELECT k, e::jsonb, r, t FROM UNNEST(\(keys), \(entries), \(letters.map(\.reason)), \(letters.map(\.at))) AS u(k, e, r, t)
            """, logger: logger)
    }

    /// The dead letters, oldest first.
    public func deadLetters() async throws -> [DeadLetter] {
        let rows = try await database.client.query(
            "SELECT entry::text, reason, at FROM \(unescaped: database.table("dead_letters")) ORDER BY id", logger: logger)
        var letters: [DeadLetter] = []
        for try await (entry, reason, at) in rows.decode((String, String, Date).self) {
            letters.append(DeadLetter(entry: try JSONDecoder().decode(OutboxEntry.self, from: Data(entry.utf8)), reason: reason, at: at))
        }
        return letters
    }

    /// The number of entries and the oldest one's enqueue date.
    public func backlog() async throws -> (count: Int, oldest: Date?) {
        let rows = try await database.client.query("SELECT count(*), min(enqueued_at) FROM \(unescaped: outbox)", logger: logger)
        for try await (count, oldest) in rows.decode((Int64, Date?).self) { return (Int(count), oldest) }
        return (0, nil)
    }

    static func binds(_ now: Date, _ limit: Int64, _ until: Date, _ worker: String) throws -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(now)
        binds.append(limit)
        binds.append(until)
        binds.append(worker)
        return binds
    }

    static func entries(_ rows: PostgresRowSequence) async throws -> [OutboxEntry] {
        var found: [(Int64, OutboxEntry)] = []
        let decoder = JSONDecoder()
        for try await (seq, sobject, field, id, fields, enqueuedAt, attempts, group) in rows.decode(
            (Int64, String, String, String, String, Date, Int64, String?).self) {
            let values = try decoder.decode([String: JSONValue].self, from: Data(fields.utf8))
            found.append((seq, OutboxEntry(sobject: sobject, externalIdField: field, externalId: id, fields: values, enqueuedAt: enqueuedAt,
                                           attempts: Int(clamping: attempts), group: group)))
        }
        // UPDATE … RETURNING gives no order: the queue's is by sequence.
        return found.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
