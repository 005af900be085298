import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Several clients (standing in for processes) sharing one credential store, against an org
/// with Refresh Token Rotation: one refresh per expiry, never a revoked family.
@Suite struct TokenSharingTests {
    let clock = VirtualClock(mode: .autoAdvance)

    func rotatingOrg() -> SalesforceSimulator {
        SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
    }

    func provider(_ org: SalesforceSimulator, refreshToken: String) -> OAuthTokenProvider {
        OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: refreshToken, clientID: "app", clientSecret: nil),
                           transport: org, clock: clock, allowHTTPLoopback: true)
    }

    func client(_ org: SalesforceSimulator, refreshToken: String, store: any CredentialStore) throws -> SalesforceClient {
        var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL)
        configuration.credentialStore = store
        return try SalesforceClient(configuration: configuration, transport: org, tokenProvider: provider(org, refreshToken: refreshToken), clock: clock)
    }

    /// Runs `calls` concurrent `limits()` calls on each client; returns the failures.
    func storm(_ clients: [SalesforceClient], calls: Int) async -> [any Error] {
        await withTaskGroup(of: (any Error)?.self) { group in
            for client in clients {
                for _ in 0..<calls { group.addTask { do { _ = try await client.limits(); return nil } catch { return error } } }
            }
            return await group.reduce(into: [any Error]()) { if let error = $1 { $0.append(error) } }
        }
    }

    @Test func clientsSharingAStoreRefreshOncePerExpiryAndNeverRevokeTheFamily() async throws {
        let org = rotatingOrg()
        let first = org.issueRefreshToken()
        let owner = provider(org, refreshToken: first).credentialOwner
        let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: org.options.instanceURL, refreshToken: first)
        let shared = InMemoryCredentialStore(token: expired, owner: owner)
        let clients = try (0..<4).map { _ in try client(org, refreshToken: first, store: shared) }
        #expect(await storm(clients, calls: 100).isEmpty)
        #expect(org.tokenRequests == 1 && org.refreshTokenRevocations == 0)
        // The next expiry: again one refresh, presenting the rotated refresh token.
        org.expireSessions()
        #expect(await storm(clients, calls: 100).isEmpty)
        #expect(org.tokenRequests == 2 && org.refreshTokenRevocations == 0)
        let stored = try #require(await shared.load())
        #expect(stored.revision == 3 && stored.token.refreshToken != first)
    }

    @Test func withoutASharedStoreTheSameRunRevokesTheFamily() async throws {
        // Today's behaviour across processes: each holds its own copy of the credential.
        let org = rotatingOrg()
        let first = org.issueRefreshToken()
        let owner = provider(org, refreshToken: first).credentialOwner
        let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: org.options.instanceURL, refreshToken: first)
        let clients = try (0..<4).map { _ in try client(org, refreshToken: first, store: InMemoryCredentialStore(token: expired, owner: owner)) }
        let failures = await storm(clients, calls: 100)
        #expect(org.refreshTokenRevocations >= 1)
        #expect(failures.count >= 100)
        #expect(failures.allSatisfy { OutcomeClassifier().classify($0) == .authenticationFailed })
    }

    @Test func aFileStoreServesClientsTheSameWay() async throws {
        let org = rotatingOrg()
        let first = org.issueRefreshToken()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sharing-\(UUID().uuidString).store").path
        defer { for suffix in ["", ".lock", ".refresh-lock"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let clients = try (0..<4).map { _ in try client(org, refreshToken: first, store: FileCredentialStore(path: path, clock: clock)) }
        #expect(await storm(clients, calls: 50).isEmpty)
        #expect(org.tokenRequests == 1)  // the first token, fetched once for all four
        org.expireSessions()
        #expect(await storm(clients, calls: 50).isEmpty)
        #expect(org.tokenRequests == 2 && org.refreshTokenRevocations == 0)
    }

    /// A provider whose refresh loses a race: another process rotates the refresh token (and
    /// stores the result) while this one's request is on its way, so it is refused.
    struct RaceLosingProvider: TokenProvider {
        let store: any CredentialStore
        let winner: AccessToken?
        func fetchToken() async throws -> AccessToken { try await fetchToken(refreshToken: nil) }
        func fetchToken(refreshToken: String?) async throws -> AccessToken {
            if let winner, let current = try await store.load() {
                _ = try await store.replace(expected: current.revision, with: winner, owner: credentialOwner)
            }
            throw AuthenticationError.refused(TokenRefusal(code: "invalid_grant", detail: "token request is already being processed", grant: "refresh_token"))
        }
    }

    @Test func invalidGrantAfterAnotherProcessRotatedIsAnsweredFromTheStore() async throws {
        let stale = AccessToken(value: "STALE", refreshToken: "R1")
        let winner = AccessToken(value: "WINNER", refreshToken: "R2")
        let owner = RaceLosingProvider(store: InMemoryCredentialStore(), winner: nil).credentialOwner
        let store = InMemoryCredentialStore(token: stale, owner: owner)
        let tokens = TokenStore(provider: RaceLosingProvider(store: store, winner: winner), clock: clock, credentials: store)
        #expect(try await tokens.refresh(replacing: stale).value == "WINNER")
        // With nobody else's token to find, the refusal stands and is held for the cool-down.
        let alone = InMemoryCredentialStore(token: stale, owner: owner)
        let lonely = TokenStore(provider: RaceLosingProvider(store: alone, winner: nil), clock: VirtualClock(), credentials: alone)
        await #expect(throws: AuthenticationError.self) { try await lonely.refresh(replacing: stale) }
        let held = await #expect(throws: AuthenticationError.self) { try await lonely.token() }
        guard case .refused(let refusal)? = held else { Issue.record("not held: \(String(describing: held))"); return }
        #expect(refusal.code == "invalid_grant")
    }
}
