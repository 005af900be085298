import Foundation
import PostgresNIO
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The drill: four PaymentService processes on one PostgreSQL outbox and one token store, posting
/// 10,000 payments to a simulator over loopback HTTP through a 503 storm with 5 % of answers
/// lost; two are killed with SIGKILL mid-drain and one is started again. Every payment lands
/// exactly once, the queue ends empty, and the fleet asks for one token per session.
///
/// Real processes in real time (about half a minute); every wait is on an event — a count of
/// records reached, a process exiting — never a fixed sleep.
@Suite(.serialized) struct FleetDrillTests {
    @Test(.timeLimit(.minutes(4))) func fourServicesLoseNothingAndDuplicateNothingThroughKillsAStormAndLostAnswers() async throws {
        let count = 10_000
        let postgres = try await FleetSupport.freshDatabase()
        let (killPoint, killNow) = AsyncStream<Void>.makeStream()
        let (restartPoint, restartNow) = AsyncStream<Void>.makeStream()
        let clock = SystemClock()
        // The storm; the answers to the first two data calls lost after commit (so that the drill
        // always has some); then 5 % of the others.
        let schedule = ChaosSchedule(faults: [.serviceUnavailable(from: .seconds(4), for: .seconds(8)), .lostResponses(probability: 1, limit: 2),
                                              .lostResponses(probability: 0.05)],
                                     seed: 11, clock: clock, origin: clock.now)
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer(chaos: schedule) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
            served = org
            return FleetSupport.Milestones(org: org, thresholds: [(2_000, killNow), (5_000, restartNow)])
        }
        defer { server.stop() }
        let org = try #require(served)
        // Every session ends 15 s in: one more token for the fleet, not one per process.
        org.expireSessions(at: clock.now + .seconds(15))

        let arguments = ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--postgres-url", postgres,
                         "--count", "\(count)", "--rate", "2500", "--batch-timeout", "5", "--exit-when-done"]
        func launch() throws -> ChildProcess {
            try ServiceProcess.launch(arguments, environment: ["SF_CLIENT_ID": "fleet", "SF_CLIENT_SECRET": "secret"])
        }
        var services = try (0..<4).map { _ in try launch() }
        defer { for service in services { service.send(SIGKILL) } }

        for await _ in killPoint {}
        services[0].send(SIGKILL)
        services[1].send(SIGKILL)
        #expect(await services[0].exitStatus() == SIGKILL)
        #expect(await services[1].exitStatus() == SIGKILL)
        for await _ in restartPoint {}
        services.append(try launch())

        for service in services[2...] {
            let status = await service.exitStatus()
            #expect(status == 0, "exit \(status): \(service.errorLines.suffix(8))")
            let summary = try? JSONDecoder().decode([String: JSONValue].self, from: Data(service.standardOutput.utf8))
            #expect(summary?["stoppedBy"] == .string("done"), "\(service.standardOutput)")
        }

        let stored = org.countsByValue(of: "Payment__c", field: "Reference__c")
        let references = (1...count).map { String(format: "PAY-%06d", $0) }
        let (letters, backlog) = try await FleetSupport.withFleetStore(postgres) { store in (try await store.deadLetters(), try await store.backlog()) }
        let dead = Set(letters.map(\.entry.externalId))
        #expect(references.filter { stored[$0] == nil && !dead.contains($0) }.isEmpty, "lost")
        #expect(stored.values.allSatisfy { $0 == 1 }, "duplicated: \(stored.filter { $0.value > 1 }.count)")
        #expect(stored.count + dead.count == count)
        #expect(backlog.count == 0, "still queued: \(backlog.count)")
        #expect(org.tokenRequests == 2, "token requests for the fleet: \(org.tokenRequests)")
        #expect(schedule.statistics["lost response", default: 0] >= 2, "lost answers: \(schedule.statistics)")
    }
}
