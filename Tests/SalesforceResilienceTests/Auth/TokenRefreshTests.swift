import Foundation
@testable import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct TokenRefreshTests {
    /// A transport serving the token endpoint (tokens T1, T2, …) and a data endpoint that
    /// accepts only `validToken`.
    final class Org: Sendable {
        let tokenRequests = Lock(0)
        let validToken: Lock<String>
        let failRefresh: Bool
        init(validToken: String = "T2", failRefresh: Bool = false) {
            self.validToken = Lock(validToken)
            self.failRefresh = failRefresh
        }

        var transport: MockTransport {
            MockTransport { request in
                if request.url.path.hasSuffix("/oauth2/token") {
                    let n = self.tokenRequests.withLock { $0 += 1; return $0 }
                    if self.failRefresh && n > 1 {
                        return .json(400, #"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#)
                    }
                    return tokenResponse("T\(n)")
                }
                let valid = self.validToken.withLock { $0 }
                return request.headers["Authorization"] == "Bearer \(valid)" ? .json(200, #"{"DailyApiRequests":{"Max":100,"Remaining":90}}"#) : sessionExpired
            }
        }
    }

    func provider(_ transport: any HTTPTransport, clock: VirtualClock) -> OAuthTokenProvider {
        OAuthTokenProvider(
            loginURL: URL(string: "https://login.salesforce.com")!,
            grant: .refreshToken(refreshToken: "REFRESHSECRET", clientID: "client-id", clientSecret: "CLIENTSECRET"),
            transport: transport, clock: clock)
    }

    @Test func aThousandConcurrentExpiredRequestsShareOneRefresh() async throws {
        let org = Org()
        let transport = org.transport
        let clock = VirtualClock(mode: .autoAdvance)
        let recorder = EventRecorder()
        let client = try makeClient(transport, tokenProvider: provider(transport, clock: clock), recorder: recorder, clock: clock)
        // Warm up: the first token (T1) is fetched, and is already expired.
        _ = try await client.tokens.token()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<1_000 { group.addTask { try await client.limits().dailyAPIRequests?.max ?? -1 } }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 1_000 && statuses.allSatisfy { $0 == 100 })
        #expect(org.tokenRequests.withLock { $0 } == 2)  // the first token and exactly one refresh
        #expect(recorder.events.filter { $0 == .tokenRefreshStarted }.count == 1)
    }

    @Test func failedRefreshIsATypedAuthErrorWithoutARetryStorm() async throws {
        let org = Org(failRefresh: true)
        let transport = org.transport
        let clock = VirtualClock(mode: .autoAdvance)
        let client = try makeClient(transport, tokenProvider: provider(transport, clock: clock), clock: clock)
        await #expect(throws: AuthenticationError.refused(TokenRefusal(code: "invalid_grant", detail: "expired access/refresh token", grant: "refresh_token"))) {
            try await client.limits()
        }
        #expect(org.tokenRequests.withLock { $0 } == 2)
        #expect(transport.requestCount == 3)  // data, token refresh, nothing else
    }

    @Test func aRejectedFixedTokenFailsAtOnceSayingItCannotBeRefreshed() async throws {
        let org = Org(validToken: "never")
        let transport = org.transport
        let client = try makeClient(transport, tokenProvider: StaticTokenProvider(accessToken: "00D000000000001!STALE"), clock: VirtualClock(mode: .autoAdvance))
        let error = await #expect(throws: AuthenticationError.self) { try await client.limits() }
        #expect(error == .tokenRejected(operation: "limits"))
        #expect(error?.description.contains("cannot be refreshed") == true)
        #expect(error?.description.contains("after a token refresh") == false)
        #expect(transport.requestCount == 1)  // no replay of a request that cannot succeed
    }

    @Test func aSecond401AfterRefreshIsATypedErrorNotALoop() async throws {
        let org = Org(validToken: "never")
        let transport = org.transport
        let clock = VirtualClock(mode: .autoAdvance)
        let client = try makeClient(transport, tokenProvider: provider(transport, clock: clock), clock: clock)
        let error = await #expect(throws: AuthenticationError.self) { try await client.limits() }
        #expect(error == .sessionRejectedAfterRefresh(operation: "limits"))
        #expect(org.tokenRequests.withLock { $0 } == 2)
        #expect(transport.requests.filter { $0.url.path.hasSuffix("/limits") }.count == 2)
    }

    @Test func aLateCallerWithAStaleTokenGetsTheNewOneWithoutFetching() async throws {
        let org = Org()
        let store = TokenStore(provider: provider(org.transport, clock: VirtualClock()), clock: VirtualClock())
        let first = try await store.token()
        let second = try await store.refresh(replacing: first)
        let third = try await store.refresh(replacing: first)
        #expect(first.value == "T1" && second.value == "T2" && third.value == "T2")
        #expect(org.tokenRequests.withLock { $0 } == 2)
    }

    /// A provider whose first fetch waits for `release`; it issues T1, T2, … and says when a
    /// fetch has begun.
    final class GatedProvider: TokenProvider {
        let fetches = Lock(0)
        let began: AsyncStream<Void>
        private let beganContinuation: AsyncStream<Void>.Continuation
        private let gate: AsyncStream<Void>
        let release: AsyncStream<Void>.Continuation
        init() {
            (began, beganContinuation) = AsyncStream.makeStream()
            (gate, release) = AsyncStream.makeStream()
        }
        func fetchToken() async throws -> AccessToken { try await fetchToken(refreshToken: nil) }
        func fetchToken(refreshToken: String?) async throws -> AccessToken {
            let n = fetches.withLock { $0 += 1; return $0 }
            beganContinuation.yield()
            if n == 1 { for await _ in gate { break } }
            return AccessToken(value: "T\(n)")
        }
    }

    @Test func aRefreshThatJoinsTheFirstFetchDoesNotGetBackTheTokenItReplaces() async throws {
        // A request that already saw T1 rejected asks for a refresh while the first fetch, which
        // will return T1, is still in flight: it must not be handed T1 again.
        let provider = GatedProvider()
        let tokens = TokenStore(provider: provider, clock: VirtualClock())
        let first = Task { try await tokens.token() }
        var began = provider.began.makeAsyncIterator()
        _ = await began.next()
        let refreshed = Task { try await tokens.refresh(replacing: AccessToken(value: "T1")) }
        // Let the refresh reach the store and join the fetch in flight before that fetch ends.
        while await tokens.joiners == 0 { await Task.yield() }
        provider.release.yield()
        #expect(try await first.value.value == "T1")
        #expect(try await refreshed.value.value == "T2")
        #expect(provider.fetches.withLock { $0 } == 2)
    }

    @Test(.timeLimit(.minutes(1))) func aCallWaitingForAStalledLoginEndsAtItsCallTimeout() async throws {
        let clock = VirtualClock(mode: .manual)
        let org = SalesforceSimulator(clock: clock)
        let (tokenRequests, tokenRequest) = AsyncStream<Void>.makeStream()
        let transport = OutboxDeliveryTests.StallingLogin(org, tokenRequests: tokenRequest)
        transport.stalled.withLock { $0 = true }
        let login = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .clientCredentials(clientID: "sim-client", clientSecret: "sim-secret"),
                                       transport: transport, clock: clock, allowHTTPLoopback: true)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL, callTimeout: .seconds(10)),
                                          transport: transport, tokenProvider: login, clock: clock)
        let call = Task { try await client.limits() }
        var requests = tokenRequests.makeAsyncIterator()
        _ = await requests.next()
        await clock.advance(by: .seconds(10))
        await #expect(throws: DeadlineExceededError.self) { try await call.value }
        #expect(org.calls["GET limits"] == nil, "nothing went out without a token")
    }
}
