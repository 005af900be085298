import Foundation
import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `PaymentService events` as an operator runs it: on the embedded org and event bus it works
/// every request once, survives the bus dropping its stream, stops when every result is
/// delivered, and prints what it measured; with `--postgres-url` the replay id lives in
/// PostgreSQL beside the outbox.
@Suite(.serialized) struct EventsCommandTests {
    static func summary(_ process: ChildProcess) throws -> [String: JSONValue] {
        try JSONDecoder().decode([String: JSONValue].self, from: Data(process.standardOutput.utf8))
    }

    @Test(.timeLimit(.minutes(1))) func onTheEmbeddedBusEveryRequestGetsOneResultAndARestartOnAnotherBusFollowsTheAgedOutPolicy() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let arguments = ["events", "--count", "300", "--rate", "150", "--exit-when-done", "--journal", directory.appendingPathComponent("journal").path,
                         "--replay-file", directory.appendingPathComponent("replay").path]
        let service = try ServiceProcess.launch(arguments)
        defer { service.send(SIGKILL) }
        #expect(await service.exitStatus() == 0, "\(service.errorLines.suffix(8))")
        let summary = try Self.summary(service)
        #expect(summary["stoppedBy"] == "done" && summary["published"] == 300 && summary["handledThisRun"] == 300, "\(summary)")
        #expect(summary["resultsInOrg"] == 300 && summary["duplicates"] == 0 && summary["stillQueued"] == 0 && summary["deadLettered"] == 0)
        #expect(summary["resubscribes"]?.numberValue.map { $0 >= 1 } == true, "the bus drops every stream at a third: \(summary)")
        #expect(summary["storedReplayID"] == .string(String(format: "%016x", 299)))

        // Started again on the same files: the new embedded bus is another bus, which has not
        // published the stored replay id, so by default the run stops loudly, naming the topic
        // and the id; with `--aged-out earliest` it reads the topic again from its start, says
        // so at warning, and skips every event by its id (the checkpoint keeps the last 500).
        // At 50 a second the new bus takes 6 s to reach the stored id, long after the service
        // subscribes.
        let again = try ServiceProcess.launch(arguments.map { $0 == "150" ? "50" : $0 })
        defer { again.send(SIGKILL) }
        #expect(await again.exitStatus() != 0)
        #expect(again.errorLines.contains { $0.contains("the stored replay id") && $0.contains("/event/Payment_Requested__e") },
                "\(again.errorLines.suffix(4))")
        let resumed = try ServiceProcess.launch(arguments.map { $0 == "150" ? "50" : $0 } + ["--aged-out", "earliest"])
        defer { resumed.send(SIGKILL) }
        #expect(await resumed.exitStatus() == 0, "\(resumed.errorLines.suffix(8))")
        let third = try Self.summary(resumed)
        #expect(third["handledThisRun"] == 0 && third["duplicatesSkipped"] == 300 && third["stoppedBy"] == "done", "\(third)")
        #expect(resumed.errorLines.contains { $0.contains("warning") && $0.contains("pubsub stored replay id aged out") },
                "the fallback is reported: \(resumed.errorLines.prefix(6))")
    }

    @Test(.timeLimit(.minutes(1))) func withPostgreSQLTheReplayIDIsStoredBesideTheOutbox() async throws {
        let postgres = try await FleetSupport.freshDatabase()
        let arguments = ["events", "--count", "120", "--rate", "120", "--exit-when-done", "--postgres-url", postgres]
        let service = try ServiceProcess.launch(arguments)
        defer { service.send(SIGKILL) }
        #expect(await service.exitStatus() == 0, "\(service.errorLines.suffix(8))")
        let summary = try Self.summary(service)
        #expect(summary["resultsInOrg"] == 120 && summary["duplicates"] == 0 && summary["stoppedBy"] == "done", "\(summary)")
        #expect(summary["storedReplayID"] == .string(String(format: "%016x", 119)))
        let stored = try await FleetSupport.withFleetStore(postgres) { store in
            try await PostgresReplayStore(database: store.database).checkpoint(for: "/event/Payment_Requested__e")
        }
        #expect(stored?.replayID == InMemoryPubSub.replayID(119))
    }
}
