import Foundation
import PostgresNIO
import SalesforceResilience
import SalesforceResiliencePostgres
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

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/postgres-sandbox.sh")
    nonisolated(unsafe) static var directory: String?

    private static func startSandbox() async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paymentservice-tests-\(getpid())").path
        let (status, output) = run(script.path, ["start", directory])
        guard status == 0 else { throw TestServerError(description: "could not start PostgreSQL with \(script.path): \(output)") }
        Self.directory = directory
        atexit {
            if let directory = TestServer.directory { _ = TestServer.run(TestServer.script.path, ["stop", directory]) }
        }
        return output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `path` with `arguments` and waits for it, its output in a file. Not Foundation's
    /// Process: it waits for every process that inherited its watch socket, and the server this
    /// script starts lives on.
    static func run(_ path: String, _ arguments: [String]) -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-sandbox-\(UUID().uuidString).log").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { for pointer in environment { free(pointer) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, argv, environment) == 0 else { return (-1, "cannot run \(path)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        unlink(log)
        return ((status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}

/// The test server could not be started.
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
