import Foundation
import Logging
import SalesforceResilience
import SalesforceResiliencePostgres

/// The `PaymentService mode` commands: the fleet's operating mode in PostgreSQL.
public enum FleetMode {
    /// Sets the fleet's mode; returns it.
    ///
    /// - Throws: ``FleetModeError`` for a name that is not a mode, or the database's error.
    public static func set(_ name: String, postgresURL: String) async throws -> OperatingMode {
        guard let mode = OperatingMode(rawValue: name) else { throw FleetModeError.unknownMode(name) }
        try await withFleet(postgresURL) { try await $0.setMode(mode) }
        return mode
    }

    /// The fleet's mode and open breakers, in words.
    public static func show(postgresURL: String) async throws -> String {
        try await withFleet(postgresURL) { fleet in
            let mode = try await fleet.mode()
            let openings = try await fleet.openings()
            var lines = ["mode: \(mode?.rawValue ?? "normal (never set)")"]
            for (host, remaining) in openings.sorted(by: { $0.key < $1.key }) {
                lines.append("breaker open for \(host) for \(Int64((remaining / .seconds(1)).rounded(.up))) s more")
            }
            if openings.isEmpty { lines.append("no breaker held open") }
            return lines.joined(separator: "\n")
        }
    }

    private static func withFleet<T: Sendable>(_ url: String, _ body: @Sendable (PostgresFleet) async throws -> T) async throws -> T {
        let database = try FleetDatabase(url: url, maximumConnections: 2)
        let pool = Task { await database.client.run() }
        defer { pool.cancel() }
        try await database.migrate()
        return try await body(PostgresFleet(database: database))
    }
}

/// Why a `mode` command could not be carried out.
public enum FleetModeError: Error, CustomStringConvertible, Equatable {
    /// Not one of the modes.
    case unknownMode(String)

    /// What to type instead.
    public var description: String {
        switch self {
        case .unknownMode(let name):
            "\(name) is not a mode: normal, criticalOnly, fallback or paused"
        }
    }
}
