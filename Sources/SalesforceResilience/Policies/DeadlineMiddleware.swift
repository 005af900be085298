/// Gives each call a total time budget, attempts and waits included.
///
/// It sets ``RequestContext/deadline`` (keeping an earlier one the caller set) and refuses to
/// start once the deadline has passed. ``RetryMiddleware`` will not begin a wait that would end
/// after it. An attempt still in flight at the deadline is cancelled, and the call fails with
/// ``DeadlineExceededError`` (``DeadlineExceededError/cutAttemptInFlight``): a transport that
/// hangs cannot hold a call past its budget.
///
/// How the cut is made depends on ``racesChain``. By default the middleware races the rest of the
/// chain against a timer, which bounds anything inside, at the cost of a child task or two per
/// call. The standard chain of ``SalesforceClient`` turns that off: there every wait inside is already
/// bounded by the deadline (retry and throttle waits, the token fetch in ``AuthMiddleware``) and
/// the ``Pipeline`` bounds each attempt, so a call runs inline.
public struct DeadlineMiddleware: Middleware, FusedMiddleware {
    /// The time budget for a call. Default 120 s.
    public let timeout: Duration
    /// Whether the rest of the chain is raced against the deadline. `false` is only for chains
    /// whose every wait honours ``RequestContext/deadline``, in a ``Pipeline`` given this clock.
    public let racesChain: Bool
    private let clock: any ResilienceClock

    /// Creates the middleware.
    public init(timeout: Duration = .seconds(120), clock: any ResilienceClock = SystemClock(), racesChain: Bool = true) {
        self.timeout = timeout
        self.clock = clock
        self.racesChain = racesChain
    }

    /// Sets the deadline and passes the request on.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        try await handle(request, context, now: clock.now, next: next)
    }

    /// ``handle(_:_:next:)`` with the time read by the caller.
    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, now: ResilienceInstant, next: ChainNext) async throws -> HTTPResponse {
        var limited = context
        let deadline = try limit(&limited, now: now)
        if !racesChain { return try await next(request, limited) }
        return try await race(request, limited, until: deadline, next: next)
    }

    /// The rest of the chain raced against a timer that ends at `deadline`.
    private func race(_ request: HTTPRequest, _ context: RequestContext, until deadline: ResilienceInstant, next: ChainNext) async throws -> HTTPResponse {
        let operation = context.operation
        let clock = self.clock
        return try await withoutActuallyEscaping(next) { next in
            try await withTimeLimit(at: deadline, clock: clock, expired: {
                DeadlineExceededError(operation: operation, deadline: deadline, cutAttemptInFlight: true)
            }) {
                try await next(request, context)
            }
        }
    }

    /// Sets the context's deadline; refuses once it has passed.
    private func limit(_ context: inout RequestContext, now: ResilienceInstant) throws -> ResilienceInstant {
        let timeout = self.timeout.atLeast(OptionLimits.timeout)
        let deadline = min(context.deadline ?? now + timeout, now + timeout)
        guard now < deadline else {
            throw DeadlineExceededError(operation: context.operation, deadline: deadline)
        }
        context.deadline = deadline
        return deadline
    }
}
