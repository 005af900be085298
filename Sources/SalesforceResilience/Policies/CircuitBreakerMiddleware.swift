/// Routes each call through the ``CircuitBreaker`` of its host.
///
/// Only failures whose category ``FailureCategory/countsAsBreakerFailure`` count against the
/// breaker: row-lock contention, auth errors and code bugs show the server is answering, so
/// they count as successes. The server's `Retry-After` lengthens the break.
///
/// Only evidence about the server counts at all: an answer from it (``SalesforceError``) or a
/// transport failure on the way to it (``TransportError``). A call that never reached it — refused
/// by the throttle, cut by its deadline before an answer, failed at the token endpoint or the
/// credential store, cancelled — is neither a success nor a failure: a half-open probe that was
/// never sent does not close the breaker, and a busy token store does not open it.
public struct CircuitBreakerMiddleware: Middleware, InlineMiddleware {
    /// The breakers, one per host.
    public let registry: CircuitBreakerRegistry
    private let clock: any ResilienceClock
    private let maxRetryAfter: Duration

    /// Creates the middleware.
    public init(registry: CircuitBreakerRegistry, clock: any ResilienceClock = SystemClock()) {
        self.registry = registry
        self.clock = clock
        self.maxRetryAfter = .seconds(Int64.max / 1_000_000_000_000)
    }

    /// Admits, sends and records.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    /// The host's breaker admits the call (`probe` when it is a half-open probe) or throws.
    func before(_ request: HTTPRequest, _ context: RequestContext) throws -> (breaker: CircuitBreaker, probe: Bool) {
        let breaker = registry.breaker(for: request.url)
        return (breaker, try breaker.acquire(operation: context.operation))
    }

    func succeeded(_ response: HTTPResponse, _ ticket: (breaker: CircuitBreaker, probe: Bool), _ context: RequestContext) {
        ticket.breaker.record(.success, probe: ticket.probe)
    }

    func failed(_ error: any Error, _ ticket: (breaker: CircuitBreaker, probe: Bool), _ context: RequestContext) -> any Error {
        ticket.breaker.record(outcome(of: error), probe: ticket.probe)
        return error
    }

    /// What `error` says about the server.
    private func outcome(of error: any Error) -> CircuitBreaker.Outcome {
        switch error {
        case is SalesforceError, is TransportError:
            FailureCategory(of: error).countsAsBreakerFailure ? .failure(retryAfter: retryAfter(of: error)) : .success
        default:
            .ignored
        }
    }

    private func retryAfter(of error: any Error) -> Duration? {
        // The breaker clamps to its own maxBreakDuration.
        (error as? SalesforceError)?.retryAfter?.delay(now: clock.wallClockNow, maximum: maxRetryAfter)
    }
}
