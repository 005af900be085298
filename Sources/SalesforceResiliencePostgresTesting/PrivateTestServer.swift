#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster of one test alone, for faults that would stop everybody else's tests:
/// a crash and restart (`pg_ctl stop -m immediate`, then started on the same port), or a freeze
/// (every process of the cluster stopped with SIGSTOP: it answers nothing and resets nothing).
public struct PrivateTestServer: Sendable {
    /// The cluster's directory.
    public let directory: String
    /// Its `postgres://` URL.
    public let url: String
    /// Its port, kept across restarts.
    public let port: String

    /// Starts a new cluster in a fresh temporary directory.
    public static func start() async throws -> PrivateTestServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pg-faults-\(UUID().uuidString.prefix(8))").path
        let (status, output) = await TestServer.run(["start", directory])
        guard status == 0 else { throw TestServerError(description: "could not start PostgreSQL: \(output)") }
        let url = output.trimmingCharacters(in: .whitespacesAndNewlines)
        let port = URLComponents(string: url)?.port.map(String.init) ?? ""
        return PrivateTestServer(directory: directory, url: url, port: port)
    }

    /// Kills the server without a shutdown (as a crash would), then starts it again.
    public func crashAndRestart() async throws {
        let (crashed, why) = await TestServer.run(["crash", directory])
        guard crashed == 0 else { throw TestServerError(description: "could not crash PostgreSQL: \(why)") }
        let (started, output) = await TestServer.run(["start", directory, port])
        guard started == 0 else { throw TestServerError(description: "could not restart PostgreSQL: \(output)") }
    }

    /// The postmaster and every process it started.
    public var processes: [pid_t] {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
              let line = text.split(separator: "\n").first, let postmaster = pid_t(line) else { return [] }
        var found = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, pid_t(fields[1]) == postmaster { found.append(pid) }
        }
        return found
    }

    /// Stops every process of the cluster (SIGSTOP).
    public func freeze() { for pid in processes { kill(pid, SIGSTOP) } }
    /// Lets them run again (SIGCONT).
    public func thaw() { for pid in processes { kill(pid, SIGCONT) } }

    /// Thaws, stops and removes the cluster.
    public func stop() async {
        thaw()
        _ = await TestServer.run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }
}
#endif
