/// Retries what the ``OutcomeClassifier`` calls retryable, within attempts, deadline and budget.
///
/// For each failure, in order:
/// 1. Not retryable for this request (code bug, auth, limit exhausted; an ambiguous failure of a
///    non-idempotent request) → thrown at once.
/// 2. Attempts used up, or the wait would pass ``RequestContext/deadline`` → `retriesExhausted`.
/// 3. No tokens in the ``RetryBudget`` → `budgetExhausted`.
/// 4. Otherwise wait `Retry-After` (clamped to ``RetryPolicy/maxRetryAfter``) or the jittered
///    backoff, and try again. Cancelling the task ends the wait at once.
public struct RetryMiddleware: Middleware, FusedMiddleware {
    /// The policy.
    public let policy: RetryPolicy
    /// The shared budget.
    public let budget: RetryBudget
    private let clock: any ResilienceClock
    /// A retry is only planned if at least this much time is left after its wait for the attempt
    /// (the ``Pipeline``'s `minimumAttemptTime`).
    public let minimumAttemptTime: Duration
    private let events: ResilienceEventSink
    private let random: RandomSource

    /// Creates the middleware.
    ///
    /// - Parameters:
    ///   - budget: share one budget across every call of a client.
    ///   - random: jitter source; pass a seeded one for repeatable tests.
    public init(
        policy: RetryPolicy = .default,
        budget: RetryBudget = RetryBudget(),
        clock: any ResilienceClock = SystemClock(),
        events: ResilienceEventSink = .none,
        random: RandomSource = .system(),
        minimumAttemptTime: Duration = .zero
    ) {
        self.minimumAttemptTime = max(.zero, minimumAttemptTime)
        self.policy = policy
        self.budget = budget
        self.clock = clock
        self.events = events
        self.random = random
    }

    /// Sends the request, retrying as described above.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        var context = context
        var lastRetryCost: Int?
        var retries = 0
        while true {
            try Task.checkCancellation()
            context.attempt = retries + 1
            events.emit(.attemptStarted(operation: context.operation, attempt: context.attempt))
            let failure: any Error
            do {
                let response = try await next(request, context)
                budget.recordSuccess(refunding: lastRetryCost)
                return response
            } catch {
                failure = error
            }
            let category = FailureCategory(of: failure)
            guard let wait = plan(after: failure, category: category, context: context, retries: retries) else {
                throw failure
            }
            if category != .circuitOpen {
                let cost = budget.cost(for: category)
                guard budget.tryAcquire(cost) else {
                    events.emit(.budgetExhausted(operation: context.operation, reason: category))
                    throw failure
                }
                lastRetryCost = cost
            }
            events.emit(.retryScheduled(
                operation: context.operation, attempt: context.attempt, delay: wait, reason: category,
                status: (failure as? SalesforceError)?.status))
            try await clock.sleep(for: wait)
            retries += 1
        }
    }

    /// The wait before the next attempt, or `nil` to give up.
    private func plan(after failure: any Error, category: FailureCategory, context: RequestContext, retries: Int) -> Duration? {
        let wait: Duration
        if category == .circuitOpen {
            guard policy.waitForOpenCircuit, let retryAt = (failure as? CircuitOpenError)?.retryAt else { return nil }
            wait = max(.zero, retryAt - clock.now)
        } else {
            guard category.isRetryable(idempotent: context.isIdempotent) else { return nil }
            wait = delay(for: failure, category: category, retry: retries + 1)
        }
        if context.attempt >= policy.maxAttempts {
            events.emit(.retriesExhausted(operation: context.operation, attempts: context.attempt, reason: category, limit: .maxAttempts))
            return nil
        }
        if let deadline = context.deadline, clock.now + wait + minimumAttemptTime >= deadline {
            events.emit(.retriesExhausted(operation: context.operation, attempts: context.attempt, reason: category, limit: .deadline))
            return nil
        }
        return wait
    }

    private func delay(for failure: any Error, category: FailureCategory, retry: Int) -> Duration {
        if let retryAfter = (failure as? SalesforceError)?.retryAfter {
            return retryAfter.delay(now: clock.wallClockNow, maximum: policy.maxRetryAfter.atLeast(.zero))
        }
        return policy.backoff(for: category).delay(forRetry: retry, unit: random.nextUnit())
    }
}
