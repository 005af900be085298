import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The client's own send rate: unlimited until Salesforce throttles, lowered then, raised again
/// while it stops, lifted after a quiet spell. On the virtual clock.
@Suite struct AdaptiveThrottleTests {
    let clock = VirtualClock(mode: .manual)

    func throttle(_ options: AdaptiveThrottleOptions = .default) -> AdaptiveThrottle {
        AdaptiveThrottle(options: options, clock: clock)
    }

    /// Sends `count` requests spread over the current second.
    func send(_ throttle: AdaptiveThrottle, _ count: Int) async -> [Duration] {
        var waits: [Duration] = []
        for _ in 0..<count {
            waits.append(throttle.acquire() ?? .zero)
            await clock.advance(by: .milliseconds(1_000 / Int64(count)) - .microseconds(1))
        }
        return waits
    }

    @Test func thereIsNoLimitUntilSalesforceThrottles() async {
        let throttle = throttle()
        #expect(await send(throttle, 100).allSatisfy { $0 == .zero })
        #expect(throttle.rate == nil)
    }

    @Test func aThrottlingAnswerLowersTheRateBelowWhatWasSent() async {
        let throttle = throttle()
        _ = await send(throttle, 40)
        throttle.recordThrottled()
        #expect(throttle.rate == 34)   // 0.85 × the 40 sent in the last second
        // Requests now take slots 1/34 s apart.
        let waits = (0..<4).map { _ in throttle.acquire() ?? .zero }
        #expect(waits[0] == .zero)
        #expect(waits[3] >= .milliseconds(88) && waits[3] <= .milliseconds(89))
    }

    @Test func moreThrottlingAnswersWithinASecondDoNotLowerItAgain() async {
        let throttle = throttle()
        _ = await send(throttle, 40)
        throttle.recordThrottled()
        throttle.recordThrottled()
        await clock.advance(by: .milliseconds(500))
        throttle.recordThrottled()
        #expect(throttle.rate == 34)
        await clock.advance(by: .milliseconds(600))
        throttle.recordThrottled()
        #expect(throttle.rate.map { $0 < 34 } == true)
    }

    @Test func theRateClimbsBackWhileRequestsSucceedAndTheLimitIsLiftedAfterAQuietSpell() async {
        let throttle = throttle()
        _ = await send(throttle, 40)
        throttle.recordThrottled()
        await clock.advance(by: .seconds(1))
        throttle.recordSuccess()
        #expect(throttle.rate.map { abs($0 - 35.7) < 0.01 } == true)   // + 5 % of 34 per second
        await clock.advance(by: .seconds(2))
        throttle.recordSuccess()
        #expect(throttle.rate.map { abs($0 - 39.1) < 0.01 } == true)
        await clock.advance(by: .seconds(60))
        throttle.recordSuccess()
        #expect(throttle.rate == nil)
    }

    @Test func disabledItNeverLimits() async {
        let throttle = throttle(AdaptiveThrottleOptions(isEnabled: false))
        _ = await send(throttle, 40)
        throttle.recordThrottled()
        #expect(throttle.rate == nil && throttle.acquire() == .zero)
    }

    @Test func theClientSlowsDownAfterA429AndNeverWaitsPastTheCallsDeadline() async throws {
        let answers = Lock(0)
        let transport = MockTransport { _ in
            let n = answers.withLock { $0 += 1; return $0 }
            return n == 20 ? .salesforceError(429, code: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests") : .json(200, #"{"DailyApiRequests":{"Max":15000,"Remaining":14000}}"#)
        }
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!)
        configuration.retryPolicy = RetryPolicy(maxAttempts: 1)
        let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: StaticTokenProvider(accessToken: "t"), clock: clock)
        for _ in 0..<19 { _ = try await client.limits() }
        await #expect(throws: SalesforceError.self) { _ = try await client.limits() }
        let rate = try #require(client.throttle.rate)
        #expect(rate == 0.85 * 20)
        // The next calls take slots: one now, the next 1/17 s later, on the clock.
        _ = try await client.limits()
        let paced = Task { try await client.limits() }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .milliseconds(59))
        _ = try await paced.value
        // A slot beyond the call's deadline fails the call at once instead of waiting for it.
        var short = RequestContext(operation: "limits", isIdempotent: true)
        short.deadline = clock.now + .milliseconds(1)
        for _ in 0..<5 { _ = client.throttle.acquire() }
        #expect(client.throttle.acquire(before: clock.now + .milliseconds(1)) == nil)
        let request = HTTPRequest(method: .get, url: URL(string: "https://acme.my.salesforce.com/services/data/v62.0/limits")!)
        await #expect(throws: DeadlineExceededError.self) { _ = try await client.send(request, context: short) }
    }

    /// A throttle limited to one request a second.
    func oneASecond() -> AdaptiveThrottle {
        let throttle = throttle()
        throttle.recordThrottled()  // nothing sent yet: the minimum rate, 1/s
        return throttle
    }

    @Test func aSlotGivenBackGoesToTheNextCallerNotToWaste() {
        let throttle = oneASecond()
        #expect(throttle.rate == 1)
        #expect([throttle.acquire(), throttle.acquire(), throttle.acquire()] == [.zero, .seconds(1), .seconds(2)])
        throttle.giveBack(clock.now + .seconds(1))  // the caller of the 1 s slot was cancelled
        #expect(throttle.acquire() == .seconds(1))
        #expect(throttle.acquire() == .seconds(3))
    }

    @Test func criticalRequestsDoNotWaitBehindNormalOnes() {
        let throttle = oneASecond()
        #expect((0..<3).map { _ in throttle.acquire(priority: .normal) } == [.zero, .seconds(1), .seconds(2)])
        #expect(throttle.acquire(priority: .critical) == .zero, "a write waited behind queued reads")
        #expect(throttle.acquire(priority: .critical) == .seconds(1))
        // The normal line makes room: the next read comes after the three queued and the two writes.
        #expect(throttle.acquire(priority: .normal) == .seconds(5))
    }

    @Test(.timeLimit(.minutes(1))) func aCallerCancelledWhileWaitingForItsSlotGivesItBack() async throws {
        let throttle = oneASecond()
        let middleware = AdaptiveThrottleMiddleware(throttle: throttle, clock: clock)
        let pipeline = Pipeline(middleware: [middleware], transport: MockTransport { _ in .status(200) })
        #expect(throttle.acquire() == .zero)  // the current slot is taken
        let waiting = Task { try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(await clock.waitForSleepers(1))  // it waits for the slot at 1 s
        waiting.cancel()
        _ = await waiting.result
        #expect(throttle.acquire() == .seconds(1), "the cancelled caller's slot was not given back")
    }
}
