import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct RetryMiddlewareTests {
    let clock = VirtualClock(mode: .autoAdvance)
    let recorder = EventRecorder()

    func pipeline(
        _ transport: any HTTPTransport, policy: RetryPolicy = .default, budget: RetryBudget = RetryBudget(),
        deadline: Duration = .seconds(3600), extra: [any Middleware] = []
    ) -> Pipeline {
        Pipeline(
            middleware: [
                DeadlineMiddleware(timeout: deadline, clock: clock),
                RetryMiddleware(policy: policy, budget: budget, clock: clock, events: recorder.sink, random: RandomSource(seed: 1)),
            ] + extra,
            transport: transport)
    }

    var retryDelays: [Duration] { recorder.events.compactMap(\.retryDelay) }

    @Test func retriesTransientFailuresUntilSuccess() async throws {
        let transport = MockTransport(responses: [.success(.status(503)), .success(.html(502)), .success(.json(200, "{}"))])
        let response = try await pipeline(transport).send(makeRequest(), context: makeContext())
        #expect(response.status == 200)
        #expect(transport.requestCount == 3)
        #expect(retryDelays.count == 2)
    }

    @Test func honoursRetryAfterSeconds() async throws {
        let transport = MockTransport(responses: [.success(.status(503, retryAfter: "7")), .success(.status(200))])
        _ = try await pipeline(transport).send(makeRequest(), context: makeContext())
        #expect(retryDelays == [.seconds(7)])
        #expect(clock.elapsed == .seconds(7))
    }

    @Test func honoursRetryAfterHTTPDate() async throws {
        let date = HTTPDate.format(VirtualClock.defaultStartDate.addingTimeInterval(42))
        let transport = MockTransport(responses: [.success(.status(429, retryAfter: date)), .success(.status(200))])
        _ = try await pipeline(transport).send(makeRequest(), context: makeContext())
        #expect(retryDelays == [.seconds(42)])
    }

    @Test func garbageRetryAfterFallsBackToBackoff() async throws {
        let transport = MockTransport(responses: [.success(.status(503, retryAfter: "soon")), .success(.status(200))])
        _ = try await pipeline(transport).send(makeRequest(), context: makeContext())
        let delay = try #require(retryDelays.first)
        #expect(delay >= .milliseconds(250) && delay <= .milliseconds(500))
    }

    @Test func enormousRetryAfterIsClampedToThePolicyMaximum() async throws {
        let transport = MockTransport(responses: [.success(.status(503, retryAfter: "999999999")), .success(.status(200))])
        let policy = RetryPolicy(maxRetryAfter: .seconds(90))
        _ = try await pipeline(transport, policy: policy).send(makeRequest(), context: makeContext())
        #expect(retryDelays == [.seconds(90)])
    }

    @Test func aRequestLimitThatIsNotTheDailyOneIsRetriedAfterTheLongerLimitBackoff() async throws {
        let limited = HTTPResponse.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: "ConcurrentPerOrgLongTxn Limit exceeded")
        let transport = MockTransport(responses: [.success(limited), .success(limited), .success(.status(200))])
        let policy = RetryPolicy(limitBackoff: Backoff(initial: .seconds(5), multiplier: 2, maximum: .seconds(60), jitter: .none))
        let response = try await pipeline(transport, policy: policy).send(makeRequest(), context: makeContext())
        #expect(response.status == 200)
        #expect(retryDelays == [.seconds(5), .seconds(10)])
    }

    @Test func a429WithARequestLimitBodyWaitsOnlyItsRetryAfter() async throws {
        let throttled = HTTPResponse.salesforceError(429, code: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests", headers: ["Retry-After": "1"])
        let transport = MockTransport(responses: [.success(throttled), .success(.status(200))])
        _ = try await pipeline(transport).send(makeRequest(), context: makeContext())
        #expect(retryDelays == [.seconds(1)])
        #expect(clock.elapsed == .seconds(1))
    }

    @Test func codeBugsAreNotRetried() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(400, code: "MALFORMED_QUERY", message: "unexpected token"))])
        let error = await #expect(throws: SalesforceError.self) {
            try await pipeline(transport).send(makeRequest(), context: makeContext())
        }
        #expect(error?.errorCode == "MALFORMED_QUERY")
        #expect(transport.requestCount == 1)
    }

    @Test func apiLimitExhaustionIsNotRetried() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded."))])
        let error = await #expect(throws: SalesforceError.self) {
            try await pipeline(transport).send(makeRequest(), context: makeContext())
        }
        #expect(error?.category == .apiLimitExceeded)
        #expect(transport.requestCount == 1)
    }

    @Test func rowLockContentionIsRetried() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(400, code: "UNABLE_TO_LOCK_ROW")), .success(.status(204))])
        let response = try await pipeline(transport).send(makeRequest(.patch), context: makeContext(idempotent: true))
        #expect(response.status == 204)
        #expect(transport.requestCount == 2)
    }

    @Test func attemptsAreBoundedByMaxAttempts() async throws {
        let transport = MockTransport { _ in .status(503) }
        await #expect(throws: SalesforceError.self) {
            try await pipeline(transport, policy: RetryPolicy(maxAttempts: 4)).send(makeRequest(), context: makeContext())
        }
        #expect(transport.requestCount == 4)
        #expect(recorder.events.compactMap(\.exhaustedLimit) == [.maxAttempts])
    }

    @Test func attemptsAreBoundedByTheDeadlineDuringALongStorm() async throws {
        let transport = MockTransport { _ in .status(503) }
        let policy = RetryPolicy(maxAttempts: 1_000, backoff: Backoff(initial: .seconds(1), maximum: .seconds(10)))
        await #expect(throws: SalesforceError.self) {
            try await pipeline(transport, policy: policy, deadline: .seconds(60)).send(makeRequest(), context: makeContext())
        }
        #expect(clock.elapsed < .seconds(60))
        #expect(transport.requestCount < 20)
        #expect(recorder.events.compactMap(\.exhaustedLimit) == [.deadline])
    }

    @Test func retryBudgetStopsAStormFromMultiplyingTraffic() async throws {
        // Five minutes of 503s; calls arrive one after another.
        let transport = MockTransport { _ in .status(503) }
        let budget = RetryBudget(options: .init(capacity: 50, retryCost: 5))
        let pipeline = pipeline(transport, budget: budget)
        var calls = 0
        while clock.elapsed < .seconds(300) {
            calls += 1
            _ = try? await pipeline.send(makeRequest(), context: makeContext())
            try await clock.sleep(until: clock.now + .seconds(1))
        }
        // Without a budget every call would make 5 requests; with it, 10 retries in all.
        #expect(transport.requestCount == calls + 10)
        #expect(budget.available == 0)
        #expect(recorder.events.contains { $0.isBudgetExhausted })
    }

    @Test func budgetRefillsAsCallsSucceed() async throws {
        let transport = MockTransport(responses: [.success(.status(503)), .success(.status(200)), .success(.status(200))])
        let budget = RetryBudget(options: .init(capacity: 100, retryCost: 5, successReward: 1))
        let pipeline = pipeline(transport, budget: budget)
        _ = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(budget.available == 100)
        _ = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(budget.available == 100)
    }

    @Test func ambiguousFailureOfANonIdempotentRequestIsNotRetried() async throws {
        let transport = MockTransport(responses: [.failure(TransportError.ambiguous(.timedOut, "timeout")), .success(.status(201))])
        await #expect(throws: TransportError.self) {
            try await pipeline(transport).send(makeRequest(.post), context: makeContext(idempotent: false))
        }
        #expect(transport.requestCount == 1)
    }

    @Test func ambiguousFailureOfAnIdempotentRequestIsRetried() async throws {
        let transport = MockTransport(responses: [.failure(TransportError.ambiguous(.connectionLost, "reset")), .success(.status(200))])
        let response = try await pipeline(transport).send(makeRequest(.patch), context: makeContext(idempotent: true))
        #expect(response.status == 200)
        #expect(transport.requestCount == 2)
    }

    @Test func neverSentFailureIsRetriedEvenForANonIdempotentRequest() async throws {
        let transport = MockTransport(responses: [.failure(TransportError.notSent(.connectionRefused, "refused")), .success(.status(201))])
        let response = try await pipeline(transport).send(makeRequest(.post), context: makeContext(idempotent: false))
        #expect(response.status == 201)
    }

    @Test func attemptNumberReachesTheInnerChain() async throws {
        let seen = EventRecorder()
        struct Spy: Middleware {
            let sink: ResilienceEventSink
            func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
                sink.emit(.attemptStarted(operation: "spy", attempt: context.attempt))
                return try await next(request, context)
            }
        }
        let transport = MockTransport(responses: [.success(.status(503)), .success(.status(503)), .success(.status(200))])
        _ = try await pipeline(transport, extra: [Spy(sink: seen.sink)]).send(makeRequest(), context: makeContext())
        #expect(seen.events == [1, 2, 3].map { .attemptStarted(operation: "spy", attempt: $0) })
    }

    @Test func fiveMinuteStormIsRiddenOutInVirtualTime() async throws {
        let clock = self.clock
        let transport = MockTransport { _ in clock.elapsed < .seconds(300) ? .status(503) : .json(200, "{}") }
        let policy = RetryPolicy(maxAttempts: 100)
        let response = try await pipeline(transport, policy: policy, deadline: .seconds(600)).send(makeRequest(), context: makeContext())
        #expect(response.status == 200)
        #expect(clock.elapsed >= .seconds(300))
        // 30 s cap with equal jitter: at least 15 s apart once grown, so about 20 attempts.
        #expect(transport.requestCount <= 30)
    }
}

@Suite struct RetryCancellationTests {
    @Test func cancellationDuringABackoffWaitReturnsPromptly() async throws {
        let clock = VirtualClock(mode: .manual)
        let transport = MockTransport { _ in .status(503, retryAfter: "60") }
        let pipeline = Pipeline(middleware: [RetryMiddleware(clock: clock)], transport: transport)
        let task = Task { try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.elapsed == .zero)
        #expect(transport.requestCount == 1)
        #expect(clock.sleeperCount == 0)
    }

    @Test func cancelledBeforeStartingSendsNothing() async throws {
        let transport = MockTransport { _ in .status(200) }
        let pipeline = Pipeline(middleware: [RetryMiddleware(clock: VirtualClock())], transport: transport)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pipeline.send(makeRequest(), context: makeContext())
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(transport.requestCount == 0)
    }
}
