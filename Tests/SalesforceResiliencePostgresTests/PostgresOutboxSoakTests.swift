#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Testing

/// ``OutboxStoreSoak`` on PostgreSQL: two drainers on two pools (two machines of a fleet), three
/// batches at a time each, records updated while older versions are in flight, a storm, lost
/// answers, proxy errors and row locks; each record ends with its last value, once.
@Suite struct PostgresOutboxSoakTests {
    @Test(.timeLimit(.minutes(3)), arguments: 1...2)
    func twoMachinesOnOneDatabase(_ seed: UInt64) async throws {
        try await withTestDatabase { (database) async throws in
            try await withPeer(of: database) { peer in
                let report = try await OutboxStoreSoak(seed: seed).run { clock, drainers in
                    [database, peer].prefix(drainers).enumerated().map { index, pool in
                        PostgresOutboxStore(database: pool, worker: "machine-\(index)", clock: clock)
                    }
                }
                #expect(report.problems.isEmpty, "\(report)")
                #expect(report.deliveredByDrainer.allSatisfy { $0 > 0 }, "one machine did all the work: \(report.deliveredByDrainer)")
            }
        }
    }
}
#endif
