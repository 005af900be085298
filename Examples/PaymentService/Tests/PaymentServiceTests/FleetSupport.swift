import Foundation
import Synchronization
import SalesforceResilienceTesting
import SalesforceResilience
import PostgresNIO
import SalesforceResiliencePostgresTesting
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

    /// Passes requests to the org and says when it holds `thresholds` records of `sobject`.
    final class Milestones: HTTPTransport {
        let org: SalesforceSimulator
        let sobject: String
        private let pending: Mutex<[(count: Int, reached: AsyncStream<Void>.Continuation)]>

        init(org: SalesforceSimulator, sobject: String = "Payment__c", thresholds: [(Int, AsyncStream<Void>.Continuation)]) {
            self.org = org
            self.sobject = sobject
            pending = Mutex(thresholds.map { (count: $0.0, reached: $0.1) })
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let response = try await org.send(request)
            if request.method == .patch {
                let held = org.records(of: sobject).count
                let reached = pending.withLock { pending in
                    let due = pending.filter { $0.count <= held }
                    pending.removeAll { $0.count <= held }
                    return due.map(\.reached)
                }
                for milestone in reached { milestone.finish() }
            }
            return response
        }
    }

    static func withFleetStore<T: Sendable>(_ url: String, _ body: @Sendable (PostgresOutboxStore) async throws -> T) async throws -> T {
        let database = try FleetDatabase(url: url, maximumConnections: 2)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await database.client.run(); return nil }
            defer { group.cancelAll() }
            return try await body(PostgresOutboxStore(database: database, worker: "drill"))
        }
    }
}
