import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The PaymentService executable against the simulator served over loopback HTTP, stopped with
/// SIGTERM while Salesforce answers 503: it finishes the batch in flight, loses nothing, prints
/// its summary and exits 0 within one batch timeout.
@Suite(.serialized) struct GracefulShutdownTests {
    /// Answers 503 to every data call while `storming`, and says when it answered the first.
    final class Storm: HTTPTransport {
        let org: SalesforceSimulator
        let storming = Mutex(true)
        let struck: AsyncStream<Void>.Continuation

        init(org: SalesforceSimulator, struck: AsyncStream<Void>.Continuation) {
            self.org = org
            self.struck = struck
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.hasPrefix("/services/data"), storming.withLock({ $0 }) {
                struck.yield()
                return .html(503, title: "503 Service Unavailable")
            }
            return try await org.send(request)
        }
    }

    @Test(.timeLimit(.minutes(1))) func sigtermDuringAStormLosesNothingAndExitsZeroWithinOneBatchTimeout() async throws {
        let (struck, strike) = AsyncStream<Void>.makeStream()
        var served: Storm?
        let server = try LoopbackHTTPServer { url in
            let storm = Storm(org: SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock()), struck: strike)
            served = storm
            return storm
        }
        defer { server.stop() }
        let storm = try #require(served)
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("service-\(UUID().uuidString).journal").path
        let batchTimeout = 5
        let service = try ServiceProcess.launch(
            ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--journal", journal, "--count", "400", "--rate", "200",
             "--batch-timeout", "\(batchTimeout)", "--log-level", "debug"],
            environment: ["SF_CLIENT_ID": "service", "SF_CLIENT_SECRET": "secret"])
        for await _ in struck { break }  // the storm has hit the service

        let signalled = ContinuousClock.now
        service.send(SIGTERM)
        let status = await service.exitStatus()
        let took = ContinuousClock.now - signalled
        #expect(status == 0)
        #expect(took < .seconds(batchTimeout + 2), "exit took \(took), the batch timeout is \(batchTimeout) s")
        #expect(service.errorLines.contains { $0.contains("the batch in flight has finished") })
        let summary = try JSONDecoder().decode([String: JSONValue].self, from: Data(service.standardOutput.utf8))
        #expect(summary["stoppedBy"] == .string("signal"))

        // Nothing lost: every payment the service took in is in the org or still in the journal.
        storm.storming.withLock { $0 = false }
        let store = try FileJournalOutboxStore(path: journal)
        let queued = Set(await store.pending(limit: .max).map(\.externalId))
        let enqueued = Int(await store.metadata["job.enqueued"] ?? "0") ?? 0
        #expect(enqueued > 0)
        let inOrg = storm.org.countsByValue(of: "Payment__c", field: "Reference__c")
        let missing = (1...max(1, enqueued)).map { String(format: "PAY-%06d", $0) }.filter { inOrg[$0] == nil && !queued.contains($0) }
        #expect(missing.isEmpty, "lost: \(missing.prefix(5))")
        #expect(inOrg.values.allSatisfy { $0 == 1 }, "duplicated")

        // And no log line carries a token.
        let tokens = (1...max(1, storm.org.tokensIssued)).map { "SIMTOKEN\($0)" }
        #expect(!service.errorLines.isEmpty)
        #expect(service.errorLines.allSatisfy { line in !tokens.contains { line.contains($0) } && !line.contains("Bearer") })
    }
}
