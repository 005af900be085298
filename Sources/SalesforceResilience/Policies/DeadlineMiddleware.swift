/// Gives each call a total time budget, attempts and waits included.
///
/// It sets ``RequestContext/deadline`` (keeping an earlier one the caller set) and refuses to
/// start once the deadline has passed. ``RetryMiddleware`` will not begin a wait that would end
/// after it. An attempt already in flight is bounded by the transport's own attempt timeout.
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
        var context = context
        let now = clock.now
        let timeout = self.timeout.atLeast(OptionLimits.timeout)
        let deadline = min(context.deadline ?? now + timeout, now + timeout)
        context.deadline = deadline
        guard now < deadline else {
            throw DeadlineExceededError(operation: context.operation, deadline: deadline)
        }
        return try await next(request, context)
    }
}
