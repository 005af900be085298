import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct CircuitBreakerTests {
    let clock = VirtualClock(mode: .manual)
    let recorder = EventRecorder()

    func breaker(_ options: CircuitBreakerOptions = .init(consecutiveFailureThreshold: 3, breakDuration: .seconds(30))) -> CircuitBreaker {
        CircuitBreaker(key: "host", options: options, clock: clock, events: recorder.sink)
    }

    func fail(_ breaker: CircuitBreaker, times: Int, retryAfter: Duration? = nil) throws {
        for _ in 0..<times {
            let probe = try breaker.acquire(operation: "op")
            breaker.record(.failure(retryAfter: retryAfter), probe: probe)
        }
    }

    var transitions: [String] {
        recorder.events.compactMap(\.breakerTransition).map { "\($0.0.rawValue)→\($0.1.rawValue)" }
    }

    @Test func opensAfterConsecutiveFailures() throws {
        let breaker = breaker()
        try fail(breaker, times: 2)
        #expect(breaker.state == .closed)
        try fail(breaker, times: 1)
        #expect(breaker.state == .open)
        #expect(breaker.nextProbeAt == .origin + .seconds(30))
    }

    @Test func aTripOnAnotherWorkersEvidenceOpensThenProbesOnItsOwn() async throws {
        let breaker = breaker()
        breaker.trip(for: .seconds(20))
        #expect(breaker.state == .open && breaker.nextProbeAt == .origin + .seconds(20))
        #expect(transitions == ["closed→open"])
        breaker.trip(for: .seconds(5))  // a shorter break does not cut this one short
        #expect(breaker.nextProbeAt == .origin + .seconds(20))
        breaker.trip(for: .seconds(40))
        #expect(breaker.nextProbeAt == .origin + .seconds(40))
        await clock.advance(by: .seconds(40))
        let probe = try breaker.acquire(operation: "op")
        #expect(probe)
        breaker.record(.success, probe: probe)
        #expect(breaker.state == .closed)
        breaker.isolate()
        breaker.trip(for: .seconds(1))
        #expect(breaker.state == .isolated)
    }

    @Test func aSuccessResetsTheConsecutiveCount() throws {
        let breaker = breaker()
        try fail(breaker, times: 2)
        breaker.record(.success, probe: try breaker.acquire(operation: "op"))
        try fail(breaker, times: 2)
        #expect(breaker.state == .closed)
    }

    @Test func failsFastWhileOpenWithTheNextProbeTime() async throws {
        let breaker = breaker()
        try fail(breaker, times: 3)
        await clock.advance(by: .seconds(10))
        let error = #expect(throws: CircuitOpenError.self) { try breaker.acquire(operation: "upsert") }
        #expect(error?.retryAt == .origin + .seconds(30))
        #expect(error?.operation == "upsert")
    }

    @Test func opensOnFailureRatioOnceThroughputIsReached() async throws {
        let breaker = breaker(.init(consecutiveFailureThreshold: 100, failureRatioThreshold: 0.5, minimumThroughput: 10, samplingWindow: .seconds(10)))
        // Alternate success and failure: never 100 in a row, but 50 %.
        for i in 0..<9 {
            let probe = try breaker.acquire(operation: "op")
            breaker.record(i.isMultiple(of: 2) ? .failure(retryAfter: nil) : .success, probe: probe)
        }
        #expect(breaker.state == .closed)  // 9 calls: below the minimum throughput
        try fail(breaker, times: 1)
        #expect(breaker.state == .open)  // 10 calls, 6 failures
    }

    @Test func oldFailuresLeaveTheSamplingWindow() async throws {
        let breaker = breaker(.init(consecutiveFailureThreshold: 100, failureRatioThreshold: 0.5, minimumThroughput: 4, samplingWindow: .seconds(10)))
        try fail(breaker, times: 3)
        await clock.advance(by: .seconds(11))
        for _ in 0..<3 { breaker.record(.success, probe: try breaker.acquire(operation: "op")) }
        try fail(breaker, times: 1)
        #expect(breaker.state == .closed)  // window holds 3 successes and 1 failure
    }

    @Test func halfOpenLetsOnlyTheProbeLimitThrough() async throws {
        let breaker = breaker(.init(consecutiveFailureThreshold: 1, breakDuration: .seconds(30), halfOpenMaxProbes: 2))
        try fail(breaker, times: 1)
        await clock.advance(by: .seconds(30))
        #expect(try breaker.acquire(operation: "op") == true)
        #expect(breaker.state == .halfOpen)
        #expect(try breaker.acquire(operation: "op") == true)
        let error = #expect(throws: CircuitOpenError.self) { try breaker.acquire(operation: "op") }
        #expect(error?.retryAt == nil)
    }

    @Test func successfulProbeCloses() async throws {
        let breaker = breaker()
        try fail(breaker, times: 3)
        await clock.advance(by: .seconds(30))
        let probe = try breaker.acquire(operation: "op")
        breaker.record(.success, probe: probe)
        #expect(breaker.state == .closed)
        #expect(transitions == ["closed→open", "open→halfOpen", "halfOpen→closed"])
    }

    @Test func failedProbeReopensForAnotherBreak() async throws {
        let breaker = breaker()
        try fail(breaker, times: 3)
        await clock.advance(by: .seconds(30))
        try fail(breaker, times: 1)
        #expect(breaker.state == .open)
        #expect(breaker.nextProbeAt == .origin + .seconds(60))
        #expect(transitions == ["closed→open", "open→halfOpen", "halfOpen→open"])
    }

    @Test func cancelledProbeFreesItsSlot() async throws {
        let breaker = breaker()
        try fail(breaker, times: 3)
        await clock.advance(by: .seconds(30))
        breaker.record(.ignored, probe: try breaker.acquire(operation: "op"))
        #expect(breaker.state == .halfOpen)
        #expect(try breaker.acquire(operation: "op") == true)
    }

    @Test func breakLastsAtLeastTheServersRetryAfterWithinTheMaximum() throws {
        let breaker = breaker(.init(consecutiveFailureThreshold: 1, breakDuration: .seconds(30), maxBreakDuration: .seconds(120)))
        try fail(breaker, times: 1, retryAfter: .seconds(90))
        #expect(breaker.nextProbeAt == .origin + .seconds(90))
        breaker.reset()
        try fail(breaker, times: 1, retryAfter: .seconds(5_000))
        #expect(breaker.nextProbeAt == .origin + .seconds(120))
        breaker.reset()
        try fail(breaker, times: 1, retryAfter: .seconds(1))
        #expect(breaker.nextProbeAt == .origin + .seconds(30))
    }

    @Test func manualIsolationHoldsOpenUntilReset() async throws {
        let breaker = breaker()
        breaker.isolate()
        await clock.advance(by: .seconds(3_600))
        let error = #expect(throws: CircuitOpenError.self) { try breaker.acquire(operation: "op") }
        #expect(error?.retryAt == nil)
        #expect(breaker.state == .isolated)
        breaker.reset()
        #expect(try breaker.acquire(operation: "op") == false)
        #expect(transitions == ["closed→isolated", "isolated→closed"])
    }

    @Test func registryKeepsOneBreakerPerKey() {
        let registry = CircuitBreakerRegistry(clock: clock)
        #expect(registry.breaker(for: "a") === registry.breaker(for: "a"))
        #expect(registry.breaker(for: "a") !== registry.breaker(for: "b"))
        #expect(Set(registry.all.keys) == ["a", "b"])
    }
}
