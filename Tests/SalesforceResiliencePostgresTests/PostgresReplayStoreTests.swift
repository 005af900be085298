#if PostgreSQL && PubSub
import Foundation
import PostgresNIO
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResiliencePostgresTesting
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Testing

/// The fleet's replay checkpoints: the store contract on a real server, a peer pool reading what
/// another wrote, and a server that crashes and restarts or freezes under the store.
@Suite struct PostgresReplayStoreTests {
    @Test(arguments: ReplayStoreConformance.checks)
    func conforms(_ check: ReplayStoreConformance.Check) async throws {
        try await withTestDatabase { database in
            try await check.run { PostgresReplayStore(database: database) }
        }
    }

    @Test func anotherPoolReadsWhatOneSaved() async throws {
        try await withTestDatabase { database in
            let checkpoint = ReplayCheckpoint(replayID: Data([0, 1, 2]), recentEventIDs: ["e-1"], savedAt: Date(timeIntervalSince1970: 1_767_225_600.5))
            try await PostgresReplayStore(database: database).save(checkpoint, for: "/event/Payment_Requested__e")
            let read = try await withPeer(of: database) { peer in try await PostgresReplayStore(database: peer).checkpoint(for: "/event/Payment_Requested__e") }
            #expect(read == checkpoint)
        }
    }

    func checkpoint(_ n: UInt8) -> ReplayCheckpoint {
        ReplayCheckpoint(replayID: Data([n]), recentEventIDs: ["e-\(n)"], savedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(n)))
    }

    /// Saves until one succeeds (the pool reconnects after a restart); how many failed first.
    func saveUntilItLands(_ store: PostgresReplayStore, _ checkpoint: ReplayCheckpoint) async throws -> Int {
        var failures = 0
        while true {
            do {
                try await store.save(checkpoint, for: "/event/T__e")
                return failures
            } catch {
                failures += 1
                guard failures < 100 else { throw error }
                try await Task.sleep(for: .milliseconds(100))  // a real server restarting: nothing to inject
            }
        }
    }

    @Test(.timeLimit(.minutes(2))) func checkpointsSurviveACrashAndAFrozenServerFailsASaveInTime() async throws {
        let server = try await PrivateTestServer.start()
        var database = try FleetDatabase(url: server.url, schema: "replay_faults")
        database.queryTimeout = .seconds(1)
        let pool = Task { [database] in await database.client.run() }
        defer { pool.cancel() }
        do {
            try await database.migrate()
            let store = PostgresReplayStore(database: database)
            try await store.save(checkpoint(1), for: "/event/T__e")

            try await server.crashAndRestart()
            #expect(try await saveUntilItLands(store, checkpoint(2)) < 100)
            #expect(try await store.checkpoint(for: "/event/T__e") == checkpoint(2))

            server.freeze()
            let started = ContinuousClock.now
            let error = await #expect(throws: PostgresStoreError.self) { try await store.save(checkpoint(3), for: "/event/T__e") }
            #expect(error?.isTransient == true)
            #expect(ContinuousClock.now - started < .seconds(5), "a frozen server must not hold a save past its query timeout")
            server.thaw()
            _ = try await saveUntilItLands(store, checkpoint(4))
            #expect(try await store.checkpoint(for: "/event/T__e") == checkpoint(4))
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}
#endif
