import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The runbook's kill switch for a fleet, end to end: `PaymentService mode set` writes the mode
/// to PostgreSQL, and a running service follows it within seconds, without a restart.
@Suite(.serialized) struct FleetModeTests {
    func command(_ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
        let process = try ServiceProcess.launch(arguments)
        let status = await process.exitStatus()
        return (status, process.standardOutput, process.errorLines.joined(separator: "\n"))
    }

    @Test(.timeLimit(.minutes(2))) func aRunningServiceFollowsTheModeAnOperatorSets() async throws {
        let postgres = try await FleetSupport.freshDatabase()
        let server = try LoopbackHTTPServer { url in SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock()) }
        defer { server.stop() }
        let service = try ServiceProcess.launch(
            ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--postgres-url", postgres,
             "--count", "1000", "--rate", "20", "--exit-when-done", "--log-level", "info"],
            environment: ["SF_CLIENT_ID": "fleet", "SF_CLIENT_SECRET": "secret"])
        defer { service.send(SIGKILL) }
        _ = try #require(await service.waitForLine(containing: "payment service started"))

        let paused = try await command(["mode", "set", "paused", "--postgres-url", postgres])
        #expect(paused.status == 0 && paused.output.contains("the fleet's mode is paused"), "\(paused)")
        let followed = try #require(await service.waitForLine(containing: "salesforce operating mode paused"), "\(service.errorLines.suffix(5))")
        #expect(followed.contains("paused"))
        _ = try #require(await service.waitForLine(containing: "salesforce outbox paused"))
        #expect(try await command(["mode", "show", "--postgres-url", postgres]).output.contains("mode: paused"))

        let refused = try await command(["mode", "set", "asleep", "--postgres-url", postgres])
        #expect(refused.status != 0 && refused.errors.contains("asleep is not a mode"), "\(refused)")

        // Back to normal: the service takes it, and the job goes on to its end.
        #expect(try await command(["mode", "set", "normal", "--postgres-url", postgres]).status == 0)
        _ = try #require(await service.waitForLine(containing: "salesforce operating mode normal"))
        service.send(SIGTERM)
        #expect(await service.exitStatus() == 0)
    }
}
