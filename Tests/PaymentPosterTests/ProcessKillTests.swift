import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The PaymentPoster executable, killed with SIGKILL while it posts to a simulator served over
/// loopback HTTP, then restarted on the same journal: every payment lands exactly once.
///
/// This runs real processes in real time (about two seconds); it waits on events (a collection
/// landing, the process exiting), never on a fixed sleep.
@Suite struct ProcessKillTests {
    /// The first request after which the org holds at least `threshold` records is committed,
    /// then its answer is held until the test has killed the poster: the process dies with a
    /// collection saved but not acknowledged, the case that duplicates records if anything does.
    final class KillPoint: HTTPTransport {
        let org: SalesforceSimulator
        let threshold: Int
        let reached: AsyncStream<Void>.Continuation
        let killed: AsyncStream<Void>
        private let crossed = Lock(false)

        init(org: SalesforceSimulator, threshold: Int, reached: AsyncStream<Void>.Continuation, killed: AsyncStream<Void>) {
            self.org = org
            self.threshold = threshold
            self.reached = reached
            self.killed = killed
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let response = try await org.send(request)
            let first = org.records(of: "Payment__c").count >= threshold && crossed.withLock { crossed in
                defer { crossed = true }
                return !crossed
            }
            if first {
                reached.finish()
                for await _ in killed {}
            }
            return response
        }
    }

    /// The built PaymentPoster executable, beside the test bundle.
    static let posterBinary = ChildProcess.builtExecutable(named: "PaymentPoster")

    func launch(_ arguments: [String]) throws -> ChildProcess {
        try ChildProcess(Self.posterBinary, arguments: arguments, environment: ["SF_CLIENT_ID": "poster", "SF_CLIENT_SECRET": "secret"])
    }

    @Test(.timeLimit(.minutes(1))) func plainHTTPWithoutTheLoopbackFlagIsAUsageErrorThatNamesTheFlag() async throws {
        let process = try launch(["--instance-url", "http://127.0.0.1:9", "--count", "1"])
        #expect(await process.exitStatus() == 2)
        #expect(process.errorLines.joined(separator: "\n").contains("--allow-http-loopback"))
    }

    // A hang fails the test after the limit instead of stalling CI.
    @Test(.timeLimit(.minutes(1))) func killedWithSIGKILLAndRestartedOnTheSameJournalEveryPaymentLandsOnce() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.posterBinary.path), "build PaymentPoster first: \(Self.posterBinary.path)")
        let count = 600
        let (landed, reached) = AsyncStream<Void>.makeStream()
        let (killed, kills) = AsyncStream<Void>.makeStream()
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock())
            served = org
            return KillPoint(org: org, threshold: 150, reached: reached, killed: killed)
        }
        defer {
            kills.finish()
            server.stop()
        }
        let org = try #require(served)
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("poster-kill-\(UUID().uuidString).journal").path
        let arguments = ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--journal", journal,
                         "--count", "\(count)", "--rate", "300", "--quiet"]

        let first = try launch(arguments)
        Task { _ = await first.exitStatus(); reached.finish() }  // a poster dying early must not hang the test
        // 300 payments journaled in the first second; the first collection of 200 is saved and
        // its answer held; the poster dies with 100 queued and 200 unacknowledged.
        for await _ in landed {}
        try #require(first.isRunning, "the poster exited before the first collection landed")
        first.send(SIGKILL)
        #expect(await first.exitStatus() == SIGKILL)
        kills.finish()
        #expect(org.records(of: "Payment__c").count == 200)

        let second = try launch(arguments)
        #expect(await second.exitStatus() == 0)
        let stored = org.countsByValue(of: "Payment__c", field: "Reference__c")
        let references = (1...count).map { String(format: "PAY-%06d", $0) }
        #expect(references.filter { stored[$0] == nil }.isEmpty, "lost")
        #expect(references.filter { (stored[$0] ?? 0) > 1 }.isEmpty, "duplicated")
        #expect(stored.count == count)
    }
}
