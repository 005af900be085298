#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import PostgresNIO
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Testing

/// The fleet's token store: compare-and-swap on a row, a refresh lock held across pools (as
/// across machines), and one refresh for every machine under Refresh Token Rotation.
@Suite struct PostgresCredentialStoreTests {
    func token(_ value: String, refreshToken: String? = nil) -> AccessToken {
        AccessToken(value: value, instanceURL: URL(string: "https://acme.my.salesforce.com"), issuedAt: Date(timeIntervalSince1970: 1_767_225_600),
                    scope: "api refresh_token", identityURL: "https://login.salesforce.com/id/00D/005", refreshToken: refreshToken)
    }

    @Test func compareAndSwapStoresOnlyOverTheRevisionItSaw() async throws {
        try await withTestDatabase { (database) async throws in
            let store = PostgresCredentialStore(database: database)
            #expect(try await store.load() == nil)
            guard case .stored(let first) = try await store.replace(expected: nil, with: token("A", refreshToken: "R1"), owner: "app") else {
                Issue.record("the first write was refused"); return
            }
            #expect(first.revision == 1)
            // A second writer that also saw an empty store is told what is there now.
            guard case .superseded(let current?) = try await store.replace(expected: nil, with: token("B"), owner: "app") else {
                Issue.record("a write over an unseen credential was stored"); return
            }
            #expect(current.token.value == "A" && current.token.refreshToken == "R1" && current.revision == 1)
            guard case .stored(let second) = try await store.replace(expected: 1, with: token("C", refreshToken: "R2"), owner: "app") else {
                Issue.record("a write over the revision it saw was refused"); return
            }
            #expect(second.revision == 2)
            guard case .superseded(let now?) = try await store.replace(expected: 1, with: token("D"), owner: "app") else {
                Issue.record("a stale write was stored"); return
            }
            #expect(now.token.value == "C" && now.revision == 2)
            let loaded = try #require(try await store.load())
            #expect(loaded.token == token("C", refreshToken: "R2") && loaded.owner == "app")
            // Another credential of the same database is another row.
            #expect(try await PostgresCredentialStore(database: database, name: "other").load() == nil)
        }
    }

    @Test(.timeLimit(.minutes(1))) func theRefreshLockIsHeldAcrossPoolsAndGivenUpAtItsTimeout() async throws {
        try await withTestDatabase { (database) async throws in
            let (holding, held) = AsyncStream<Void>.makeStream()
            let (release, released) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await withPeer(of: database) { peer in
                    try await PostgresCredentialStore(database: peer).withRefreshLock(timeout: .seconds(5)) {
                        held.finish()
                        for await _ in release {}
                        return 1
                    }
                }
            }
            for await _ in holding {}
            let store = PostgresCredentialStore(database: database)
            let error = await #expect(throws: CredentialStoreError.self) {
                try await store.withRefreshLock(timeout: .milliseconds(300)) { 2 }
            }
            #expect(error?.isTransient == true)
            released.finish()
            #expect(try await holder.value == 1)
            #expect(try await store.withRefreshLock(timeout: .seconds(5)) { 3 } == 3)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aHolderThatDiesReleasesTheLockWithItsConnections() async throws {
        try await withTestDatabase { (database) async throws in
            let peer = try FleetDatabase(url: try await TestServer.shared.url(), schema: database.schema)
            let pool = Task { await peer.client.run() }
            let (holding, held) = AsyncStream<Void>.makeStream()
            let (never, keepOpen) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await PostgresCredentialStore(database: peer).withRefreshLock(timeout: .seconds(5)) {
                    held.finish()
                    for await _ in never {}  // ends only when the holder is cancelled: it dies holding the lock
                    return 0
                }
            }
            for await _ in holding {}
            // The machine goes away: its pool, and the connection holding the lock, close.
            holder.cancel()
            pool.cancel()
            await pool.value
            #expect(try await PostgresCredentialStore(database: database).withRefreshLock(timeout: .seconds(10)) { 7 } == 7)
            keepOpen.finish()
        }
    }

    @Test(.timeLimit(.minutes(1))) func fourMachinesWithAnExpiredTokenShareOneRefreshUnderRotation() async throws {
        try await withTestDatabase { (database) async throws in
            let clock = SystemClock()
            let org = SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
            let first = org.issueRefreshToken()
            let provider: @Sendable () -> OAuthTokenProvider = { OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: first, clientID: "app", clientSecret: nil),
                                                transport: org, clock: clock, allowHTTPLoopback: true) }
            let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: org.options.instanceURL, refreshToken: first)
            _ = try await PostgresCredentialStore(database: database).replace(expected: nil, with: expired, owner: provider().credentialOwner)

            let failures = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await withPeer(of: database) { peer in
                            var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL, allowHTTPLoopback: true)
                            configuration.credentialStore = PostgresCredentialStore(database: peer)
                            let client = try SalesforceClient(configuration: configuration, transport: org, tokenProvider: provider(), clock: clock)
                            return await withTaskGroup(of: Bool.self) { calls in
                                for _ in 0..<25 { calls.addTask { (try? await client.limits()) == nil } }
                                return await calls.reduce(0) { $0 + ($1 ? 1 : 0) }
                            }
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(failures == 0)
            #expect(org.tokenRequests == 1, "one refresh for the four machines, not \(org.tokenRequests)")
            #expect(org.refreshTokenRevocations == 0)
            let stored = try #require(try await PostgresCredentialStore(database: database).load())
            #expect(stored.revision == 2 && stored.token.refreshToken != first && stored.token.refreshToken != nil)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aRefreshWhoseLockConnectionDiesIsStoppedBeforeItCanPresentATokenTwice() async throws {
        try await withTestDatabase { (database) async throws in
            let store = PostgresCredentialStore(database: database)
            let (started, start) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await store.withRefreshLock(timeout: .seconds(5)) {
                    start.finish()
                    // The token endpoint is slow; meanwhile the lock's connection is killed.
                    try await Task.sleep(for: .seconds(30))
                    return "presented"
                }
            }
            for await _ in started {}
            // Whoever holds this credential's advisory lock (a one-key lock keeps the key's low 32
            // bits in objid): the holder's connection, and nobody else's.
            let key = "\(database.schema).credentials.default"
            let rows = try await database.client.query("""
                SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                AND objid::bigint = (hashtext(\(key))::bigint & 4294967295)
                """)
            var killed = 0
            for try await pid in rows.decode(Int32.self) {
                try await database.client.query("SELECT pg_terminate_backend(\(pid))")
                killed += 1
            }
            #expect(killed == 1)
            let error = await #expect(throws: CredentialStoreError.self) { _ = try await holder.value }
            #expect(error?.isTransient == true && error?.description.contains("lost the refresh lock") == true, "\(String(describing: error))")
            // The lock is free for the next holder at once.
            #expect(try await store.withRefreshLock(timeout: .seconds(2)) { "next" } == "next")
        }
    }
}
#endif
