import Foundation
import PostgresNIO
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Services ride through their database's faults: a PostgreSQL server of the test's own is
/// crash-restarted (`pg_ctl stop -m immediate`, then started) and later frozen (every process
/// of it stopped with SIGSTOP) while three services drain, one of them SIGKILLed and replaced.
/// Every payment lands once, nothing is dead-lettered, the queue ends empty, no service exits
/// because of the database, `/ready` says 503 while it is frozen, and a SIGTERM during a freeze
/// ends a service within its batch timeout and a few seconds.
@Suite(.serialized) struct DatabaseFaultTests {
    /// Waits until `service` has logged `text` more than `seen` times (or has exited).
    func waitForLog(_ service: ChildProcess, _ text: String, moreThan seen: Int) async {
        while service.isRunning, service.errorLines.filter({ $0.contains(text) }).count <= seen {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    func get(_ url: URL) async throws -> (Int, String) {
        let response = try await URLSessionTransport().send(HTTPRequest(method: .get, url: url))
        return (response.status, String(decoding: response.body, as: UTF8.self))
    }

    @Test(.timeLimit(.minutes(3))) func servicesRideThroughACrashRestartAndAFreezeOfTheirDatabase() async throws {
        let database = try await PrivateTestServer.start()
        // Stopped on every way out, before the test ends: a cluster left frozen or running
        // would outlive the test process.
        do {
            try await drill(on: database)
        } catch {
            await database.stop()
            throw error
        }
        await database.stop()
    }

    func drill(on database: PrivateTestServer) async throws {
        let count = 3_000
        let (crashPoint, crashNow) = AsyncStream<Void>.makeStream()
        let (freezePoint, freezeNow) = AsyncStream<Void>.makeStream()
        let (allLanded, landed) = AsyncStream<Void>.makeStream()
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock())
            served = org
            return FleetSupport.Milestones(org: org, thresholds: [(600, crashNow), (1_800, freezeNow), (count, landed)])
        }
        defer { server.stop() }
        let org = try #require(served)
        let batchTimeout = 3
        let arguments = ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--postgres-url", database.url,
                         "--count", "\(count)", "--rate", "300", "--batch-timeout", "\(batchTimeout)", "--log-format", "json"]
        func launch(_ extra: [String] = []) throws -> ChildProcess {
            try ServiceProcess.launch(arguments + extra, environment: ["SF_CLIENT_ID": "fleet", "SF_CLIENT_SECRET": "secret"])
        }
        let watched = try launch(["--metrics-port", "0"])
        var services = [watched, try launch(), try launch()]
        defer { for service in services { service.send(SIGKILL) } }
        let listening = try #require(await watched.waitForLine(containing: "status server listening"))
        let line = try JSONDecoder().decode([String: JSONValue].self, from: Data(listening.utf8))
        let status = try #require(line["metadata"]?.objectValue?["url"]?.stringValue.flatMap(URL.init(string:)))

        // A crash and restart of the database; one service killed and replaced.
        for await _ in crashPoint {}
        try await database.crashAndRestart()
        services[1].send(SIGKILL)
        #expect(await services[1].exitStatus() == SIGKILL)
        services.append(try launch())

        // A freeze: the services keep running, say why they wait, and are not ready.
        for await _ in freezePoint {}
        let outagesBefore = watched.errorLines.filter { $0.contains("cannot drain for now") }.count
        database.freeze()
        await waitForLog(watched, "cannot drain for now", moreThan: outagesBefore)
        #expect(watched.isRunning && services[2].isRunning && services[3].isRunning, "a service exited while the database was frozen")
        let (readiness, report) = try await get(status.appendingPathComponent("ready"))
        #expect(readiness == 503 && report.contains("retrying"), "/ready answered \(readiness): \(report)")
        let (liveness, _) = try await get(status.appendingPathComponent("health"))
        #expect(liveness == 200, "a worker that is retrying is alive")
        let recoveredBefore = watched.errorLines.filter { $0.contains("recovered:") }.count
        database.thaw()
        await waitForLog(watched, "recovered:", moreThan: recoveredBefore)
        for await _ in allLanded {}

        // A SIGTERM while the database is frozen: out within the batch timeout and a few seconds.
        database.freeze()
        let signalled = ContinuousClock.now
        let survivors = [services[0], services[2], services[3]]
        for service in survivors { service.send(SIGTERM) }
        for service in survivors {
            let exit = await service.exitStatus()
            #expect(exit == 0, "exit \(exit): \(service.errorLines.suffix(6))")
        }
        let took = ContinuousClock.now - signalled
        #expect(took < .seconds(batchTimeout + 5), "shutdown with the database frozen took \(took)")
        database.thaw()

        let stored = org.countsByValue(of: "Payment__c", field: "Reference__c")
        let references = (1...count).map { String(format: "PAY-%06d", $0) }
        #expect(references.allSatisfy { stored[$0] == 1 }, "missing \(references.filter { stored[$0] == nil }.count), duplicated \(stored.filter { $0.value > 1 }.count)")
        let (letters, backlog) = try await FleetSupport.withFleetStore(database.url) { store in (try await store.deadLetters(), try await store.backlog()) }
        #expect(letters.isEmpty && backlog.count == 0, "dead letters \(letters.count), still queued \(backlog.count)")
    }
}
