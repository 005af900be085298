import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Refresh Token Rotation with a credential store that fails to write (full disk, read-only
/// directory, database down): the newly issued refresh token is kept in memory and used, the
/// write is retried, and no refresh ever presents the retired one (which would revoke the family).
@Suite struct RotationPersistenceTests {
    let clock = VirtualClock(mode: .manual)

    /// An in-memory store whose writes fail while `failing` is set.
    final class FailingWrites: CredentialStore {
        let inner: InMemoryCredentialStore
        let failing = Lock(false)
        let failedWrites = Lock(0)
        init(_ inner: InMemoryCredentialStore) { self.inner = inner }

        func load() async throws -> StoredCredential? { await inner.load() }
        func replace(expected: UInt64?, with token: AccessToken, owner: String) async throws -> CredentialReplacement {
            if failing.withLock({ $0 }) {
                failedWrites.withLock { $0 += 1 }
                throw CredentialStoreError(description: "credentials.json: No space left on device (errno 28)", isTransient: true)
            }
            return await inner.replace(expected: expected, with: token, owner: owner)
        }
        func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
            try await inner.withRefreshLock(timeout: timeout, body)
        }
    }

    @Test func aRotatedRefreshTokenTheStoreRefusedIsKeptUsedAndStoredLaterWithoutRevokingTheFamily() async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
        let first = org.issueRefreshToken()
        let provider = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: first, clientID: "app", clientSecret: nil),
                                          transport: org, clock: clock, allowHTTPLoopback: true)
        let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: org.options.instanceURL, refreshToken: first)
        let store = FailingWrites(InMemoryCredentialStore(token: expired, owner: provider.credentialOwner))
        var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL)
        configuration.credentialStore = store
        let recorder = EventRecorder()
        let client = try SalesforceClient(configuration: configuration, transport: org, tokenProvider: provider, events: recorder.sink, clock: clock)

        // The store fails just as Salesforce rotates the refresh token.
        store.failing.withLock { $0 = true }
        _ = try await client.limits()
        #expect(await client.tokens.hasUnstoredCredential)
        #expect(recorder.events.contains { if case .credentialNotStored(let reason) = $0 { reason.contains("No space left") } else { false } })

        // The next expiry, store still failing: the refresh presents the rotated token from memory.
        org.expireSessions()
        _ = try await client.limits()
        #expect(org.refreshTokenRevocations == 0, "a retired refresh token was presented")
        #expect(org.tokenRequests == 2)

        // The store recovers: the background write lands the newest token within its backoff.
        store.failing.withLock { $0 = false }
        for _ in 0..<6 where await client.tokens.hasUnstoredCredential {
            await clock.advance(by: .seconds(32))
            for _ in 0..<100 { await Task.yield() }
        }
        #expect(await !client.tokens.hasUnstoredCredential)
        let stored = try #require(try await store.load())
        #expect(stored.token.value == (try await client.tokens.token()).value)
        #expect(recorder.events.contains { if case .credentialStored = $0 { true } else { false } })

        // And a later refresh goes through the store as usual.
        org.expireSessions()
        _ = try await client.limits()
        #expect(org.refreshTokenRevocations == 0 && org.tokenRequests == 3)
    }

    @Test func anUnstoredCredentialCanBeStoredOnDemandBeforeExit() async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
        let first = org.issueRefreshToken()
        let provider = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: first, clientID: "app", clientSecret: nil),
                                          transport: org, clock: clock, allowHTTPLoopback: true)
        let store = FailingWrites(InMemoryCredentialStore())
        let tokens = TokenStore(provider: provider, clock: clock, credentials: store)
        store.failing.withLock { $0 = true }
        let token = try await tokens.token()
        await #expect(throws: CredentialStoreError.self) { try await tokens.storeUnstoredCredential() }
        store.failing.withLock { $0 = false }
        #expect(try await tokens.storeUnstoredCredential())
        #expect(try await store.load()?.token == token)
    }
}
