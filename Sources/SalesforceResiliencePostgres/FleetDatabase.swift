#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import Logging
import PostgresNIO
import SalesforceResilience

/// A PostgreSQL database holding the shared state of a fleet: the outbox, the credential, the
/// operating mode and breaker openings, and Pub/Sub replay checkpoints, in one schema of their own.
///
/// ```swift
/// let database = try FleetDatabase(url: "postgres://payments@db.internal:5432/payments")
/// Task { await database.client.run() }      // or hand `database.client` to a ServiceGroup
/// try await database.migrate()
/// ```
public struct FleetDatabase: Sendable {
    /// The connection pool. It must be running (`run()`, or a `ServiceGroup`) while in use.
    public let client: PostgresClient
    /// The schema (namespace) the tables live in. Default `salesforce_resilience`.
    public let schema: String
    /// Where the stores' statements are logged (at `debug`); silent by default.
    public let logger: Logger
    /// How long one store operation may wait for the server before it fails as transient
    /// (``PostgresStoreError/isTransient``). Default 10 s.
    public var queryTimeout: Duration = .seconds(10)

    /// The schema version ``migrate()`` brings a database to.
    public static let schemaVersion = 3

    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`;
    /// TLS is preferred except on loopback, where it is off unless asked for).
    ///
    /// - Throws: ``PostgresStoreError`` for a URL that is not one, or a schema name that is not
    ///   a plain identifier (lower-case letters, digits, `_`).
    public init(url: String, schema: String = "salesforce_resilience", maximumConnections: Int = 20,
                logger: Logger = Logger(label: "salesforce-resilience.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user
        else { throw PostgresStoreError("\(Self.redacted(url)) is not a postgres:// URL with a host and a user") }
        guard Self.isIdentifier(schema) else { throw PostgresStoreError("schema \"\(schema)\" is not a plain identifier (a-z, 0-9, _)") }
        let database = components.path.split(separator: "/").first.map(String.init)
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "require": tls = .require(.makeClientConfiguration())
        case "prefer", nil: tls = loopback && mode == nil ? .disable : .prefer(.makeClientConfiguration())
        case let other?: throw PostgresStoreError("sslmode \(other) is not disable, prefer or require")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password, database: database, tls: tls)
        configuration.options.maximumConnections = max(2, maximumConnections)
        try self.init(client: PostgresClient(configuration: configuration, backgroundLogger: logger), schema: schema, logger: logger)
    }

    /// Uses a pool you configured.
    ///
    /// - Throws: ``PostgresStoreError`` for a schema name that is not a plain identifier (a
    ///   name silently replaced by the default would make two fleets share one outbox).
    public init(client: PostgresClient, schema: String = "salesforce_resilience",
                logger: Logger = Logger(label: "salesforce-resilience.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) throws {
        guard Self.isIdentifier(schema) else { throw PostgresStoreError("schema \"\(schema)\" is not a plain identifier (a-z, 0-9, _)") }
        self.client = client
        self.schema = schema
        self.logger = logger
    }

    /// Creates the schema and its tables, or migrates them to ``schemaVersion``. Safe to run
    /// from every worker at start: migrations are serialised by an advisory lock.
    ///
    /// - Throws: ``PostgresStoreError`` for a schema of a newer version than this library knows.
    public func migrate() async throws {
        let schema = self.schema
        let version = Self.schemaVersion
        try await Self.unwrappingTransactionErrors {
            try await migrate(schema: schema, to: version)
        }
    }

    private func migrate(schema: String, to version: Int) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(schema)))", logger: logger)
            try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS \(unescaped: schema).schema_version (id int PRIMARY KEY, version int NOT NULL)", logger: logger)
            var current = 0
            for try await found in try await connection.query("SELECT version FROM \(unescaped: schema).schema_version WHERE id = 1", logger: logger)
                .decode(Int.self) { current = found }
            guard current <= version else {
                throw PostgresStoreError("schema \(schema) is at version \(current), newer than this library's \(version)")
            }
            for step in PostgresMigrations.steps(schema: schema).dropFirst(current) {
                for statement in step { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
            }
            try await connection.query("""
                INSERT INTO \(unescaped: schema).schema_version (id, version) VALUES (1, \(version))
                ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version
                """, logger: logger)
        }
    }

    /// Runs `body`, throwing what a transaction's closure threw rather than postgres-nio's
    /// wrapper around it, so callers see this module's errors.
    static func unwrappingTransactionErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    /// A table's qualified name.
    func table(_ name: String) -> String { "\(schema).\(name)" }

    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) || first == "_", text.count <= 63 else { return false }
        return text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// `url` without its password, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "…"
        return components.string ?? "the URL"
    }
}

/// Why a PostgreSQL store cannot be used.
public struct PostgresStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public var description: String
    /// Whether trying again later may succeed (the server did not answer in time).
    public var isTransient: Bool
    init(_ description: String, isTransient: Bool = false) {
        self.description = description
        self.isTransient = isTransient
    }
}
#endif
