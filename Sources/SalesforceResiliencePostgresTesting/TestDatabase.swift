#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import PostgresNIO
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
#if canImport(Glibc)
import Glibc
#endif

/// The PostgreSQL server the tests use: `PAYMENTSERVICE_POSTGRES_URL` (as `.ci/run` sets it), or
/// else a throwaway cluster this test process starts with scripts/postgres-sandbox.sh and stops
/// at exit. No test is skipped for want of a server: without PostgreSQL installed, they fail
/// saying so.
public actor TestServer {
    /// The one server of this test process.
    public static let shared = TestServer()
    private var started: Task<String, any Error>?

    /// The server's URL, starting it on first use.
    public func url() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["PAYMENTSERVICE_POSTGRES_URL"], !url.isEmpty { return url }
        if let started { return try await started.value }
        let task = Task { try await Self.startSandbox() }
        started = task
        return try await task.value
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/postgres-sandbox.sh")
    nonisolated(unsafe) static var directory: String?

    private static func startSandbox() async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paymentservice-tests-\(getpid())").path
        let (status, output) = await run(["start", directory])
        guard status == 0 else { throw TestServerError(description: "could not start PostgreSQL with \(script.path): \(output)") }
        Self.directory = directory
        atexit {
            guard let directory = TestServer.directory else { return }
            // At exit there is no task to wait in: wait for the script's end with waitpid (its own
            // watcher thread may reap it first, and then this returns at once).
            guard let stop = try? ChildProcess(TestServer.script, arguments: ["stop", directory], environment: TestServer.environment) else { return }
            var status: Int32 = 0
            while waitpid(stop.processIdentifier, &status, 0) < 0 && errno == EINTR {}
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]

    /// Runs the sandbox script with `arguments`; its exit status, and its standard output (or its
    /// errors, if it failed). The server it starts does not keep the script's pipes open.
    public static func run(_ arguments: [String]) async -> (Int32, String) {
        guard let process = try? ChildProcess(script, arguments: arguments, environment: environment) else { return (-1, "cannot run \(script.path)") }
        let status = await process.exitStatus()
        return (status, status == 0 ? process.standardOutput : process.errorLines.joined(separator: "\n"))
    }
}

public struct TestServerError: Error, CustomStringConvertible {
    /// Why, with the script's output.
    public var description: String

    /// Creates an error.
    public init(description: String) { self.description = description }
}

/// A database in a schema of its own, its pool running, for one test; dropped afterwards.
public func withTestDatabase<T: Sendable>(maximumConnections: Int = 20, _ body: @Sendable (FleetDatabase) async throws -> T) async throws -> T {
    let url = try await TestServer.shared.url()
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    let database = try FleetDatabase(url: url, schema: schema, maximumConnections: maximumConnections)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await database.client.run(); return nil }
        defer { group.cancelAll() }
        try await database.migrate()
        do {
            let result = try await body(database)
            try await database.client.query("DROP SCHEMA \(unescaped: schema) CASCADE")
            return result
        } catch {
            _ = try? await database.client.query("DROP SCHEMA \(unescaped: schema) CASCADE")
            throw error
        }
    }
}

/// Another pool on the same schema: another process, or another machine, of the fleet.
public func withPeer<T: Sendable>(of database: FleetDatabase, _ body: @Sendable (FleetDatabase) async throws -> T) async throws -> T {
    let peer = try FleetDatabase(url: try await TestServer.shared.url(), schema: database.schema)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await peer.client.run(); return nil }
        defer { group.cancelAll() }
        return try await body(peer)
    }
}
#endif
