#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import Logging
import PostgresNIO
import SalesforceResilience

/// The ``CredentialStore`` of a fleet: one row per credential, so that one token refresh serves
/// every worker on every machine, safely under Refresh Token Rotation.
///
/// Compare-and-swap is a conditional `UPDATE … WHERE revision = $expected` (an `INSERT … ON
/// CONFLICT DO NOTHING` for the first). The refresh lock is a session-level advisory lock held on
/// one pooled connection while the token endpoint answers: if the worker dies, its connection
/// closes and PostgreSQL releases the lock.
public struct PostgresCredentialStore: CredentialStore {
    /// The database.
    public let database: FleetDatabase
    /// Which credential (one row per connected app and user). Default `default`.
    public let name: String
    private let clock: any ResilienceClock

    /// Creates a store; run ``FleetDatabase/migrate()`` first.
    public init(database: FleetDatabase, name: String = "default", clock: any ResilienceClock = SystemClock()) {
        self.database = database
        self.name = name
        self.clock = clock
    }

    private var logger: Logger { database.logger }
    private var table: String { database.table("credentials") }

    /// The stored credential, or `nil`.
    public func load() async throws -> StoredCredential? {
        return try await database.bounded("load") { [self] in
            let rows = try await database.client.query(
                "SELECT owner, revision, token::text, stored_at FROM \(unescaped: table) WHERE name = \(name)", logger: logger)
            for try await (owner, revision, token, storedAt) in rows.decode((String, Int64, String, Date).self) {
                return StoredCredential(token: try TokenRecord.decode(token), owner: owner, revision: UInt64(max(0, revision)), storedAt: storedAt)
            }
            return nil
        }
    }

    /// Compare-and-swap on the revision.
    public func replace(expected: UInt64?, with token: AccessToken, owner: String) async throws -> CredentialReplacement {
        return try await database.bounded("replace") { [self] in
            let json = try TokenRecord.encode(token)
            let now = clock.wallClockNow
            let rows: [PostgresRow]
            if let expected {
                let revision = Int64(expected)
                rows = try await database.client.query("""
                    UPDATE \(unescaped: table) SET owner = \(owner), revision = revision + 1, token = \(json)::jsonb, stored_at = \(now)
                    WHERE name = \(name) AND revision = \(revision) RETURNING revision
                    """, logger: logger).collect()
            } else {
                rows = try await database.client.query("""
                    INSERT INTO \(unescaped: table) (name, owner, revision, token, stored_at) VALUES (\(name), \(owner), 1, \(json)::jsonb, \(now))
                    ON CONFLICT (name) DO NOTHING RETURNING revision
                    """, logger: logger).collect()
            }
            guard let row = rows.first else { return .superseded(try await load()) }
            let revision = try row.decode(Int64.self)
            return .stored(StoredCredential(token: token, owner: owner, revision: UInt64(revision), storedAt: now))
        }
    }

    /// Runs `body` holding the advisory lock of this credential, waiting up to `timeout`.
    public func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
        let key = "\(database.schema).credentials.\(name)"
        let logger = self.logger
        let clock = self.clock
        return try await database.client.withConnection { connection in
            let deadline = clock.now + timeout
            while true {
                var taken = false
                for try await got in try await connection.query("SELECT pg_try_advisory_lock(hashtext(\(key)))", logger: logger).decode(Bool.self) {
                    taken = got
                }
                if taken { break }
                guard clock.now < deadline else {
                    throw CredentialStoreError(description: "the refresh lock of credential \(key) stayed taken for \(timeout): another worker is refreshing",
                                               isTransient: true)
                }
                try await clock.sleep(for: .milliseconds(20))
            }
            do {
                let result = try await Self.whileHeld(on: connection, key: key, logger: logger, clock: clock, body)
                try await connection.query("SELECT pg_advisory_unlock(hashtext(\(key)))", logger: logger)
                return result
            } catch {
                _ = try? await FleetDatabase.bounded("the refresh lock's release", timeout: .seconds(2)) {
                    try await connection.query("SELECT pg_advisory_unlock(hashtext(\(key)))", logger: logger)
                }
                throw error
            }
        }
    }

    /// Runs `body` while checking, every second, that the connection holding the lock is still
    /// there: the lock dies with its connection, and a refresh that went on without it could
    /// present the same refresh token as the next holder (under Refresh Token Rotation, that
    /// revokes the family). If the connection is lost, `body` is cancelled and the call fails as
    /// transient.
    static func whileHeld<T: Sendable>(on connection: PostgresConnection, key: String, logger: Logger, clock: any ResilienceClock,
                                       _ body: @Sendable () async throws -> T) async throws -> T {
        try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    while true {
                        try await clock.sleep(for: .seconds(1))
                        do {
                            // A connection the server dropped may never answer: the ping is bounded too.
                            try await FleetDatabase.bounded("a ping of the refresh lock's connection", timeout: .seconds(2)) {
                                try await connection.query("SELECT 1", logger: logger)
                            }
                        } catch {
                            throw CredentialStoreError(description: "lost the refresh lock of credential \(key): its connection failed (\(error))",
                                                       isTransient: true)
                        }
                    }
                }
                defer { group.cancelAll() }
                while let result = try await group.next() {
                    if let result { return result }
                }
                throw CancellationError()
            }
        }
    }
}

/// A token as the credentials table keeps it (JSON).
enum TokenRecord {
    private struct Record: Codable {
        var accessToken: String
        var instanceURL: String?
        var identityURL: String?
        var issuedAt: Date?
        var scope: String?
        var refreshToken: String?
    }

    static func encode(_ token: AccessToken) throws -> String {
        let record = Record(accessToken: token.value, instanceURL: token.instanceURL?.absoluteString, identityURL: token.identityURL,
                            issuedAt: token.issuedAt, scope: token.scope, refreshToken: token.refreshToken)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .millisecondsSince1970
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> AccessToken {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        let record = try decoder.decode(Record.self, from: Data(text.utf8))
        return AccessToken(value: record.accessToken, instanceURL: record.instanceURL.flatMap(URL.init(string:)), issuedAt: record.issuedAt,
                           scope: record.scope, identityURL: record.identityURL, refreshToken: record.refreshToken)
    }
}
#endif
