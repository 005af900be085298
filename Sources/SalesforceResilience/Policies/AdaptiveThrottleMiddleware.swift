/// Paces each attempt through the client's ``AdaptiveThrottle`` and tells it what Salesforce
/// answered: throttling answers lower the rate, the rest raise it again. Sits inside the retry,
/// so a retried attempt takes a slot like any other.
public struct AdaptiveThrottleMiddleware: Middleware, FusedMiddleware {
    /// The throttle, one per client.
    public let throttle: AdaptiveThrottle
    private let clock: any ResilienceClock
    /// A slot is only taken if at least this much time is left after it for the attempt
    /// (the ``Pipeline``'s `minimumAttemptTime`).
    public let minimumAttemptTime: Duration

    /// Creates the middleware.
    public init(throttle: AdaptiveThrottle, clock: any ResilienceClock = SystemClock(), minimumAttemptTime: Duration = .zero) {
        self.throttle = throttle
        self.minimumAttemptTime = max(.zero, minimumAttemptTime)
        self.clock = clock
    }

    /// Waits for a slot, sends, and reports the outcome.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        try await handle(request, context, now: clock.now, next: next)
    }

    /// ``handle(_:_:next:)`` with the time read by the caller, who waited for nothing since.
    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, now: ResilienceInstant, next: ChainNext) async throws -> HTTPResponse {
        guard let wait = throttle.acquire(before: context.deadline.map { $0 + (.zero - minimumAttemptTime) }, priority: context.priority, now: now) else {
            // The slot would come after the call's deadline: fail now, and leave the slot to others.
            throw DeadlineExceededError(operation: context.operation, deadline: context.deadline ?? now)
        }
        if wait > .zero {
            do {
                try await clock.sleep(until: now + wait)
            } catch {
                // Cancelled before its slot: the slot goes to the next caller, not to waste.
                throttle.giveBack(now + wait)
                throw error
            }
        }
        do {
            let response = try await next(request, context)
            throttle.recordSuccess()
            return response
        } catch {
            switch FailureCategory(of: error) {
            case .throttled, .requestLimited: throttle.recordThrottled()
            case .cancelled, .circuitOpen, .deadlineExceeded, .shed: break
            default: throttle.recordSuccess()  // the server answered without throttling
            }
            throw error
        }
    }
}
