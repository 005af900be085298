import Foundation
import PostgresNIO
import PostgresTestSupport
import SalesforceResiliencePostgres

/// What the fleet tests share.
enum FleetSupport {
    /// A database of its own on the test server, for the whole fleet.
    static func freshDatabase() async throws -> String {
        let base = try await TestServer.shared.url()
        let name = "drill_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        let admin = try FleetDatabase(url: base, maximumConnections: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.client.run() }
            try await admin.client.query("CREATE DATABASE \(unescaped: name)")
            group.cancelAll()
        }
        guard var components = URLComponents(string: base) else { throw TestServerError(description: "\(base) is not a URL") }
        components.path = "/" + name
        return components.string ?? base
    }

}
