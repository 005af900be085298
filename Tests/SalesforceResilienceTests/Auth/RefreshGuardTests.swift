import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The token endpoint's guards: a refresh loop stops every caller; short sessions are not a
/// loop; a refusal is not asked again during its cool-down.
@Suite struct RefreshGuardTests {
    let login = URL(string: "https://login.salesforce.com")!

    /// A token endpoint issuing T1, T2… (or refusing with `refusal`), and a data endpoint that
    /// accepts no token at all (`acceptsNone`) or any token it issued.
    final class Endpoint: Sendable {
        let tokenRequests = Lock(0)
        let acceptsNone: Bool
        let refusal: String?
        init(acceptsNone: Bool = false, refusal: String? = nil) {
            self.acceptsNone = acceptsNone
            self.refusal = refusal
        }

        var transport: MockTransport {
            MockTransport { request in
                if request.url.path.hasSuffix("/oauth2/token") {
                    let n = self.tokenRequests.withLock { $0 += 1; return $0 }
                    if let refusal = self.refusal { return .json(400, #"{"error":"\#(refusal)","error_description":"refused"}"#) }
                    return tokenResponse("T\(n)")
                }
                return self.acceptsNone ? sessionExpired : .json(200, #"{"DailyApiRequests":{"Max":100,"Remaining":90}}"#)
            }
        }
    }

    func client(_ endpoint: Endpoint, clock: VirtualClock, options: TokenRefreshOptions = .default) throws -> SalesforceClient {
        let transport = endpoint.transport
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!)
        configuration.tokenRefresh = options
        let provider = OAuthTokenProvider(loginURL: login, grant: .refreshToken(refreshToken: "R", clientID: "c", clientSecret: nil),
                                          transport: transport, clock: clock)
        return try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider, clock: clock)
    }

    @Test func aLoopTripsAfterThreeUnprovenTokensAndHoldsForEveryCallerUntilTheHoldEnds() async throws {
        let endpoint = Endpoint(acceptsNone: true)
        let clock = VirtualClock(mode: .manual)
        let client = try client(endpoint, clock: clock, options: TokenRefreshOptions(loopThreshold: 3, loopHold: .seconds(60)))
        // Each call: its token is rejected, one refresh, the new token rejected too.
        for _ in 0..<2 {
            await #expect(throws: AuthenticationError.sessionRejectedAfterRefresh(operation: "limits")) { try await client.limits() }
        }
        let tripped = AuthenticationError.refreshLoop(rejectedTokens: 3, hold: .seconds(60))
        await #expect(throws: tripped) { try await client.limits() }
        let requestsWhenTripped = endpoint.tokenRequests.withLock { $0 }
        #expect(requestsWhenTripped == 3)  // T1, then a refresh per call for the first two calls
        // While the hold lasts, every caller gets the same error and nothing reaches the token endpoint.
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<100 { group.addTask { do { _ = try await client.limits(); return nil } catch { return error } } }
            return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
        }
        #expect(errors.allSatisfy { ($0 as? AuthenticationError) == tripped })
        #expect(endpoint.tokenRequests.withLock { $0 } == requestsWhenTripped)
        // After the hold, one fetch is tried; a token that is rejected again trips it again.
        await clock.advance(by: .seconds(61))
        await #expect(throws: AuthenticationError.self) { try await client.limits() }
        #expect(endpoint.tokenRequests.withLock { $0 } == requestsWhenTripped + 1)
        await #expect(throws: AuthenticationError.self) { try await client.limits() }
        #expect(endpoint.tokenRequests.withLock { $0 } == requestsWhenTripped + 1)
    }

    @Test func fiveSecondSessionsAreNotALoop() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(options: SimulatorOptions(sessionLifetime: .seconds(5)), clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        var failures = 0
        for _ in 0..<235 {
            do { _ = try await client.limits() } catch { failures += 1 }
            try await clock.sleep(for: .seconds(1))
        }
        #expect(failures == 0)
        #expect(org.tokensIssued >= 40)  // a new session every five seconds, each one used first
    }

    @Test func aThousandCallsAfterInvalidClientAskTheTokenEndpointOnceWithinTheCooldown() async throws {
        let endpoint = Endpoint(refusal: "invalid_client")
        let clock = VirtualClock(mode: .manual)
        let client = try client(endpoint, clock: clock, options: TokenRefreshOptions(refusalCooldown: .seconds(60)))
        let expected = AuthenticationError.refused(TokenRefusal(code: "invalid_client", detail: "refused", grant: "refresh_token"))
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<1_000 { group.addTask { do { _ = try await client.limits(); return nil } catch { return error } } }
            return await group.reduce(into: [(any Error)?]()) { $0.append($1) }
        }
        #expect(errors.count == 1_000 && errors.allSatisfy { ($0 as? AuthenticationError) == expected })
        #expect(endpoint.tokenRequests.withLock { $0 } == 1)
        await clock.advance(by: .seconds(59))
        await #expect(throws: expected) { try await client.limits() }
        #expect(endpoint.tokenRequests.withLock { $0 } == 1)
        // After the cool-down, one request again.
        await clock.advance(by: .seconds(2))
        await #expect(throws: expected) { try await client.limits() }
        #expect(endpoint.tokenRequests.withLock { $0 } == 2)
    }

    @Test func aTransientTokenEndpointFailureIsNotHeld() async throws {
        let calls = Lock(0)
        let transport = MockTransport { _ in calls.withLock { $0 += 1; return $0 } <= 3 ? .status(503) : tokenResponse("T") }
        let clock = VirtualClock(mode: .autoAdvance)
        let provider = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: clock)
        let store = TokenStore(provider: provider, clock: clock)
        await #expect(throws: SalesforceError.self) { try await store.token() }  // three 503s: the provider's retries are spent
        #expect(try await store.token().value == "T")  // the next call asks again at once
        #expect(calls.withLock { $0 } == 4)
    }
}
