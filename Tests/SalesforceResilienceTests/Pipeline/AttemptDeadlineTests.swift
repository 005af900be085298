import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The one road: the call's deadline reaches the transport as the attempt's timeout, a transport
/// that honours it is called directly, any other is raced, and the token fetch is inside the call.
@Suite struct AttemptDeadlineTests {
    /// Answers at once and says it honours timeouts; records what it was given and whether a
    /// racing timer was waiting while it ran.
    final class HonouringTransport: HTTPTransport {
        let clock: VirtualClock
        let seen = Lock<[(timeout: Duration?, timers: Int, url: URL)]>([])
        init(clock: VirtualClock) { self.clock = clock }
        var honoursRequestTimeout: Bool { true }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            // A racing timer's task may register a moment after this one starts: give it time.
            for _ in 0..<1_000 where clock.timerCount == 0 { await Task.yield() }
            let timers = clock.timerCount
            seen.withLock { $0.append((request.timeout, timers, request.url)) }
            if request.url.path.hasSuffix("/query") { return .json(200, #"{"totalSize":0,"done":true,"records":[]}"#) }
            return .json(200, #"{"DailyApiRequests":{"Max":15000,"Remaining":14000}}"#)
        }
    }

    func client(_ transport: any HTTPTransport, clock: VirtualClock, token: AccessToken = AccessToken(value: "t"),
                callTimeout: Duration = .seconds(30)) throws -> SalesforceClient {
        try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: callTimeout),
            transport: transport, tokenProvider: StaticTokenProvider(token), clock: clock)
    }

    @Test func aTransportThatHonoursTheTimeoutGetsTheTimeLeftAndIsNeverRaced() async throws {
        let clock = VirtualClock(mode: .manual)
        let transport = HonouringTransport(clock: clock)
        let client = try client(transport, clock: clock)
        _ = try await client.limits()
        _ = try await client.limits()
        let seen = transport.seen.withLock { $0 }
        #expect(seen.count == 2)
        #expect(seen.allSatisfy { $0.timeout == .seconds(30) }, "the attempt's timeout is the time left before the call's deadline")
        #expect(seen.allSatisfy { $0.timers == 0 }, "no timer raced an attempt on a transport that honours its timeout")
    }

    /// Attempt middleware of the caller's might wait without looking at the deadline, so with any
    /// the standard chain races the call against its deadline: a stalling one is cut there.
    @Test(.timeLimit(.minutes(1))) func attemptMiddlewareThatStallsIsCutAtTheCallsDeadline() async throws {
        struct Stall: Middleware {
            let clock: VirtualClock
            func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
                try await clock.sleep(for: .seconds(300))
                return try await next(request, context)
            }
        }
        let clock = VirtualClock(mode: .manual)
        let transport = HonouringTransport(clock: clock)
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: .seconds(10))
        configuration.attemptMiddleware = [Stall(clock: clock)]
        let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: StaticTokenProvider(AccessToken(value: "t")),
                                          clock: clock)
        let call = Task { try await client.limits() }
        #expect(await clock.waitForSleepers(1))
        for _ in 0..<10_000 where clock.timerCount == 0 { await Task.yield() }
        #expect(clock.timerCount == 1, "the deadline races the chain")
        await clock.advance(by: .seconds(10))
        let error = await #expect(throws: DeadlineExceededError.self) { try await call.value }
        #expect(error?.cutAttemptInFlight == true)
        #expect(transport.seen.withLock { $0 }.isEmpty, "the stalled attempt never reached the transport")
    }

    @Test func aTransportThatDoesNotHonourTheTimeoutIsRacedAndCutAtTheDeadline() async throws {
        let clock = VirtualClock(mode: .manual)
        let transport = MockTransport { _ in
            try await clock.sleep(for: .seconds(300))
            return .status(200)
        }
        #expect(transport.honoursRequestTimeout == false)
        let client = try client(transport, clock: clock, callTimeout: .seconds(10))
        let call = Task { try await client.limits() }
        #expect(await clock.waitForSleepers(1))
        // The timer's task may register a moment after the attempt's.
        for _ in 0..<10_000 where clock.timerCount == 0 { await Task.yield() }
        #expect(clock.timerCount == 1, "one timer races the one attempt")
        await clock.advance(by: .seconds(10))
        let error = await #expect(throws: DeadlineExceededError.self) { try await call.value }
        #expect(error?.cutAttemptInFlight == true)
        #expect(clock.elapsed == .seconds(10))
    }

    @Test func anHonouringTransportThatStallsEndsAtTheDeadlineOnItsOwn() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 1, faults: [ChaosFault.stalls(.seconds(300), probability: 1)])
        #expect(chaos.honoursRequestTimeout)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL, callTimeout: .seconds(10)),
            transport: chaos, tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let error = await #expect(throws: DeadlineExceededError.self) { try await client.limits() }
        #expect(error?.cutAttemptInFlight == true)
        #expect(clock.elapsed == .seconds(10), "the stall ended at the deadline, not after 300 s")
    }

    /// A token endpoint that answers after `delay` on the clock (300 s: it hangs).
    struct SlowProvider: TokenProvider {
        let clock: VirtualClock
        let delay: Duration
        func fetchToken() async throws -> AccessToken {
            try await clock.sleep(for: delay)
            return AccessToken(value: "slow")
        }
        func fetchToken(refreshToken: String?) async throws -> AccessToken { try await fetchToken() }
        var credentialOwner: String { "slow" }
        var canRefresh: Bool { true }
    }

    @Test func aTokenFetchThatHangsIsCutByTheCallsDeadline() async throws {
        let clock = VirtualClock(mode: .manual)
        let transport = HonouringTransport(clock: clock)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: .seconds(10)),
            transport: transport, tokenProvider: SlowProvider(clock: clock, delay: .seconds(300)), clock: clock)
        let call = Task { try await client.limits() }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .seconds(10))
        let error = await #expect(throws: DeadlineExceededError.self) { try await call.value }
        #expect(error?.cutAttemptInFlight == false, "no data request was in flight: the call was waiting for its token")
        #expect(transport.seen.withLock { $0.count } == 0)
    }

    @Test func anAttemptThatWouldStartWithTooLittleTimeLeftIsNotSent() async throws {
        for (login, sent) in [(Duration.milliseconds(9_500), 0), (.seconds(8), 1)] {
            let clock = VirtualClock(mode: .autoAdvance)
            let transport = HonouringTransport(clock: clock)
            var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: .seconds(10))
            configuration.retryPolicy.maxAttempts = 1
            #expect(configuration.minimumAttemptTime == .seconds(1))
            let client = try SalesforceClient(configuration: configuration, transport: transport,
                                              tokenProvider: SlowProvider(clock: clock, delay: login), clock: clock)
            if sent == 0 {
                // 0.5 s left after the login: the request would most likely be cut in flight.
                let error = await #expect(throws: DeadlineExceededError.self) { try await client.limits() }
                #expect(error?.cutAttemptInFlight == false)
            } else {
                _ = try await client.limits()
                #expect(transport.seen.withLock { $0.first?.timeout } == .seconds(2))
            }
            #expect(transport.seen.withLock { $0.count } == sent)
        }
    }

    /// A token endpoint that refuses connections.
    struct UnreachableProvider: TokenProvider {
        func fetchToken() async throws -> AccessToken { throw TransportError.notSent(.connectionRefused, "login host refused") }
        func fetchToken(refreshToken: String?) async throws -> AccessToken { try await fetchToken() }
        var credentialOwner: String { "unreachable" }
        var canRefresh: Bool { true }
    }

    @Test func aTokenEndpointThatIsDownIsSeenByTheBreakerAndRetried() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let transport = HonouringTransport(clock: clock)
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: .seconds(600))
        configuration.retryPolicy.maxAttempts = 1
        let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: UnreachableProvider(), clock: clock)
        for _ in 0..<CircuitBreakerOptions.default.consecutiveFailureThreshold {
            await #expect(throws: TransportError.self) { try await client.limits() }
        }
        await #expect(throws: CircuitOpenError.self) { try await client.limits() }
        #expect(transport.seen.withLock { $0.count } == 0)
    }

    @Test func requestsGoToTheTokensInstanceWhenItNamesAnother() async throws {
        let clock = VirtualClock(mode: .manual)
        let transport = HonouringTransport(clock: clock)
        let token = AccessToken(value: "t", instanceURL: URL(string: "https://acme--moved.my.salesforce.com/")!)
        let client = try client(transport, clock: clock, token: token)
        _ = try await client.limits()
        _ = try await client.query("SELECT Id FROM Account", as: JSONValue.self).collect()
        let urls = transport.seen.withLock { $0.map(\.url.absoluteString) }
        #expect(urls.first == "https://acme--moved.my.salesforce.com/services/data/v\(SalesforceConfiguration.defaultAPIVersion)/limits")
        #expect(urls.last?.hasPrefix("https://acme--moved.my.salesforce.com/services/data/v\(SalesforceConfiguration.defaultAPIVersion)/query?q=SELECT") == true)
    }
}
