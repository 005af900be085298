import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Real processes (TokenSharingDrill) sharing one FileCredentialStore against an org with
/// Refresh Token Rotation, served over loopback HTTP. Real time: a few seconds; every wait is on
/// an event (a request arriving, a process exiting), never a fixed sleep.
@Suite(.serialized) struct TokenSharingProcessTests {
    static let drill = ChildProcess.builtExecutable(named: "TokenSharingDrill")

    struct Summary: Decodable {
        let succeeded: Int
        let failed: Int
        let errors: [String]
    }

    /// Holds the token endpoint's first request without passing it on until `release()`, then
    /// answers 503 (the org never saw it), and says when it arrived.
    final class HoldFirstTokenRequest: HTTPTransport {
        let org: SalesforceSimulator
        let arrived: AsyncStream<Void>.Continuation
        private let gate: AsyncStream<Void>
        private let open: AsyncStream<Void>.Continuation
        private let held = Lock(false)

        init(org: SalesforceSimulator, arrived: AsyncStream<Void>.Continuation) {
            self.org = org
            self.arrived = arrived
            (gate, open) = AsyncStream<Void>.makeStream()
        }

        func release() { open.finish() }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let first = request.url.path.hasSuffix("/oauth2/token") && held.withLock { held in defer { held = true }; return !held }
            guard first else { return try await org.send(request) }
            arrived.finish()
            for await _ in gate {}
            return HTTPResponse(status: 503)
        }
    }

    func directory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("token-processes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A rotating org over loopback, its first refresh token, and a store at `path` holding an
    /// expired access token with it.
    func seed(_ org: SalesforceSimulator, server: LoopbackHTTPServer, path: String) async throws -> String {
        let refreshToken = org.issueRefreshToken()
        let owner = OAuthTokenProvider(loginURL: server.baseURL, grant: .refreshToken(refreshToken: refreshToken, clientID: "app", clientSecret: nil)).credentialOwner
        let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: server.baseURL, refreshToken: refreshToken)
        _ = try await FileCredentialStore(path: path).replace(expected: nil, with: expired, owner: owner)
        return refreshToken
    }

    func launch(_ server: LoopbackHTTPServer, refreshToken: String, calls: Int, store: [String]) throws -> ChildProcess {
        try ChildProcess(Self.drill, arguments: ["--instance-url", server.baseURL.absoluteString, "--client-id", "app",
                                                 "--refresh-token", refreshToken, "--calls", "\(calls)"] + store)
    }

    func summary(_ process: ChildProcess) async throws -> Summary {
        let status = await process.exitStatus()
        try #require(status == 0, "drill exited \(status): \(process.errorLines.suffix(5))")
        return try JSONDecoder().decode(Summary.self, from: Data(process.standardOutput.utf8))
    }

    @Test(.timeLimit(.minutes(2))) func eightProcessesWithAnExpiredTokenShareOneRefreshAndRevokeNothing() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.drill.path), "build TokenSharingDrill first")
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url, refreshTokenRotation: true), clock: SystemClock())
            served = org
            return org
        }
        defer { server.stop() }
        let org = try #require(served)
        let path = try directory().appendingPathComponent("token.store").path
        let refreshToken = try await seed(org, server: server, path: path)

        let processes = try (0..<8).map { _ in try launch(server, refreshToken: refreshToken, calls: 100, store: ["--store", path]) }
        var summaries: [Summary] = []
        for process in processes { summaries.append(try await summary(process)) }
        #expect(summaries.map(\.succeeded) == Array(repeating: 100, count: 8), "\(summaries.flatMap(\.errors))")
        #expect(org.tokenRequests == 1)
        #expect(org.refreshTokenRevocations == 0)
        let stored = try #require(try await FileCredentialStore(path: path).load())
        #expect(stored.revision == 2 && stored.token.refreshToken != refreshToken)
    }

    @Test(.timeLimit(.minutes(2))) func eightProcessesEachWithItsOwnCopyRevokeTheFamily() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.drill.path), "build TokenSharingDrill first")
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url, refreshTokenRotation: true), clock: SystemClock())
            served = org
            return org
        }
        defer { server.stop() }
        let org = try #require(served)
        let refreshToken = org.issueRefreshToken()
        // What every process did before the store existed: refresh with the refresh token it started with.
        let processes = try (0..<8).map { _ in
            try launch(server, refreshToken: refreshToken, calls: 100, store: ["--own-store", "00DSIM000000001!EXPIRED"])
        }
        var failed = 0
        for process in processes { failed += try await summary(process).failed }
        #expect(org.refreshTokenRevocations >= 1)
        #expect(failed >= 100)
    }

    @Test(.timeLimit(.minutes(2))) func aProcessKilledMidRefreshLeavesAStoreTheNextProcessRecoversWithOneCleanRefresh() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.drill.path), "build TokenSharingDrill first")
        let (arrivals, arrived) = AsyncStream<Void>.makeStream()
        var served: (SalesforceSimulator, HoldFirstTokenRequest)?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url, refreshTokenRotation: true), clock: SystemClock())
            let holder = HoldFirstTokenRequest(org: org, arrived: arrived)
            served = (org, holder)
            return holder
        }
        let (org, holder) = try #require(served)
        defer {
            holder.release()
            server.stop()
        }
        let path = try directory().appendingPathComponent("token.store").path
        let refreshToken = try await seed(org, server: server, path: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))

        // The first process holds the refresh lock and waits for the token endpoint: killed there.
        let first = try launch(server, refreshToken: refreshToken, calls: 20, store: ["--store", path])
        Task { _ = await first.exitStatus(); arrived.finish() }  // a drill dying early must not hang the test
        for await _ in arrivals {}
        try #require(first.isRunning, "the first drill exited before its refresh reached the org")
        first.send(SIGKILL)
        #expect(await first.exitStatus() == SIGKILL)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)  // untouched, not torn

        // The next process is not kept waiting by the dead one's lock, and refreshes once, cleanly.
        let started = ContinuousClock.now
        let second = try launch(server, refreshToken: refreshToken, calls: 20, store: ["--store", path])
        let result = try await summary(second)
        #expect(result.succeeded == 20, "\(result.errors)")
        #expect(ContinuousClock.now - started < .seconds(30))  // the lock timeout is 60 s
        #expect(org.tokensIssued == 1 && org.refreshTokenRevocations == 0)
        #expect(try await FileCredentialStore(path: path).load()?.revision == 2)
    }
}
