import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A login endpoint that stops answering in time when the session expires: every refresh the
/// service tries within its batch timeout fails (timed out, ambiguous) until the endpoint is fast
/// again. The service keeps running, retries, and delivers every payment once.
@Suite(.serialized) struct SlowLoginTests {
    /// The org, whose token endpoint answers the refreshes numbered `slow` after `delay`.
    final class SlowLogin: HTTPTransport {
        let org: SalesforceSimulator
        let slow: ClosedRange<Int>
        let delay: Duration
        let tokenRequests = Mutex(0)

        init(org: SalesforceSimulator, slow: ClosedRange<Int>, delay: Duration) {
            self.org = org
            self.slow = slow
            self.delay = delay
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.hasSuffix("/token") {
                let n = tokenRequests.withLock { $0 += 1; return $0 }
                if slow.contains(n) { try await Task.sleep(for: delay) }
            }
            return try await org.send(request)
        }
    }

    @Test(.timeLimit(.minutes(2))) func aLoginSlowerThanTheBatchTimeoutDoesNotStopTheService() async throws {
        var served: SlowLogin?
        let clock = SystemClock()
        let server = try LoopbackHTTPServer { url in
            // The refreshes after the first token take 3 s, three times over; the batch timeout is 1 s.
            let login = SlowLogin(org: SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock), slow: 2...4, delay: .seconds(3))
            served = login
            return login
        }
        defer { server.stop() }
        let login = try #require(served)
        login.org.expireSessions(at: clock.now + .seconds(2))
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("slow-login-\(UUID().uuidString).journal").path
        let service = try ServiceProcess.launch(
            ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--journal", journal, "--count", "300", "--rate", "100",
             "--batch-timeout", "1", "--exit-when-done"],
            environment: ["SF_CLIENT_ID": "service", "SF_CLIENT_SECRET": "secret"])
        defer { service.send(SIGKILL) }
        let status = await service.exitStatus()
        #expect(status == 0, "exit \(status): \(service.errorLines.suffix(6))")
        let summary = try? JSONDecoder().decode([String: JSONValue].self, from: Data(service.standardOutput.utf8))
        #expect(summary?["stoppedBy"] == .string("done"), "\(service.standardOutput)")
        #expect(login.tokenRequests.withLock { $0 } >= 5, "the slow refreshes were never met")
        let stored = login.org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(stored.count == 300 && stored.values.allSatisfy { $0 == 1 })
    }
}
