import Foundation
@testable import PaymentPosterKit
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// A run that ends holding a token its `--token-store` would not take says so, naming the store,
/// and exits 1 — instead of exiting quietly with the only live refresh token.
@Suite struct TokenStoreExitTests {
    /// A credential store whose writes fail while `failing` is set (a full disk).
    final class FullDisk: CredentialStore {
        let inner = InMemoryCredentialStore()
        let failing = Lock(true)
        func load() async throws -> StoredCredential? { await inner.load() }
        func replace(expected: UInt64?, with token: AccessToken, owner: String) async throws -> CredentialReplacement {
            if failing.withLock({ $0 }) { throw CredentialStoreError(description: "token.store: No space left on device (errno 28)", isTransient: true) }
            return await inner.replace(expected: expected, with: token, owner: owner)
        }
        func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
            try await inner.withRefreshLock(timeout: timeout, body)
        }
    }

    func client(_ store: FullDisk) throws -> (SalesforceClient, SalesforceSimulator) {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
        let provider = OAuthTokenProvider(loginURL: org.options.instanceURL,
                                          grant: .refreshToken(refreshToken: org.issueRefreshToken(), clientID: "poster", clientSecret: nil),
                                          transport: org, clock: clock, allowHTTPLoopback: true)
        var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL)
        configuration.credentialStore = store
        return (try SalesforceClient(configuration: configuration, transport: org, tokenProvider: provider, clock: clock), org)
    }

    @Test func aTokenTheStoreRefusedUntilTheEndIsReportedAndFailsTheRun() async throws {
        let store = FullDisk()
        let (client, _) = try client(store)
        _ = try await client.limits()
        #expect(await client.tokens.hasUnstoredCredential)
        var options = PosterOptions()
        options.tokenStore = "/var/lib/poster/token.store"
        let said = Lock<[String]>([])
        let message = try #require(await PaymentPoster.storeTheNewestToken(client, options: options, output: { line in said.withLock { $0.append(line) } }))
        #expect(message.contains("/var/lib/poster/token.store") && message.contains("No space left") && message.contains("invalid_grant"))
        #expect(said.withLock { $0 }.count == 1)
        var summary = PosterSummary(
            mode: "org", payments: 1, landed: 1, duplicates: 0, lost: 0, deadLettered: 0, stillQueued: 0, notYetEnqueued: 0,
            deliveredThisRun: 1, checkedAgainst: "org", apiCalls: 2, retries: 0, breakerOpens: 0, tokenRefreshes: 1,
            stoppedEarly: nil, simulatedSeconds: 1, drainAfterStormSeconds: nil, elapsedSeconds: 1)
        #expect(summary.exitCode == 0)
        summary.tokenStoreError = message
        #expect(summary.exitCode == 1)
    }

    @Test func aStoreThatRecoversBeforeTheEndTakesTheTokenAndNothingIsSaid() async throws {
        let store = FullDisk()
        let (client, _) = try client(store)
        _ = try await client.limits()
        store.failing.withLock { $0 = false }
        #expect(await PaymentPoster.storeTheNewestToken(client, options: PosterOptions(), output: { _ in Issue.record("nothing to say") }) == nil)
        #expect(try await store.load()?.token.value == (try await client.tokens.token()).value)
    }
}
