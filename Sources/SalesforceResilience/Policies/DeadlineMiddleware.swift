/// Gives each call a total time budget, attempts and waits included.
///
/// It sets ``RequestContext/deadline`` (keeping an earlier one the caller set) and refuses to
/// start once the deadline has passed. ``RetryMiddleware`` will not begin a wait that would end
/// after it. An attempt still in flight at the deadline is cancelled, and the call fails with
/// ``DeadlineExceededError`` (``DeadlineExceededError/cutAttemptInFlight``): a transport that
/// hangs cannot hold a call past its budget.
public struct DeadlineMiddleware: Middleware {
    /// The time budget for a call. Default 120 s.
    public let timeout: Duration
    private let clock: any ResilienceClock

    /// Creates the middleware.
    public init(timeout: Duration = .seconds(120), clock: any ResilienceClock = SystemClock()) {
        self.timeout = timeout
        self.clock = clock
    }

    /// Sets the deadline and passes the request on.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        let now = clock.now
        let timeout = self.timeout.atLeast(OptionLimits.timeout)
        let deadline = min(context.deadline ?? now + timeout, now + timeout)
        let operation = context.operation
        guard now < deadline else {
            throw DeadlineExceededError(operation: operation, deadline: deadline)
        }
        var limited = context
        limited.deadline = deadline
        let clock = self.clock
        let inner = limited
        return try await withTimeLimit(at: deadline, clock: clock, expired: {
            DeadlineExceededError(operation: operation, deadline: deadline, cutAttemptInFlight: true)
        }) {
            try await next(request, inner)
        }
    }
}
