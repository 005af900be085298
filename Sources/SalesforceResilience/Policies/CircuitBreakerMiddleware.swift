/// Routes each call through the ``CircuitBreaker`` of its host.
///
/// Only failures whose category ``FailureCategory/countsAsBreakerFailure`` count against the
/// breaker: row-lock contention, auth errors and code bugs show the server is answering, so
/// they count as successes. The server's `Retry-After` lengthens the break.
public struct CircuitBreakerMiddleware: Middleware {
    /// The breakers, one per host.
    public let registry: CircuitBreakerRegistry
    private let classifier: OutcomeClassifier
    private let clock: any ResilienceClock
    private let maxRetryAfter: Duration

    /// Creates the middleware.
    public init(registry: CircuitBreakerRegistry, classifier: OutcomeClassifier = OutcomeClassifier(), clock: any ResilienceClock = SystemClock()) {
        self.registry = registry
        self.classifier = classifier
        self.clock = clock
        self.maxRetryAfter = .seconds(Int64.max / 1_000_000_000_000)
    }

    /// Admits, sends and records.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        let breaker = registry.breaker(for: request.url.host ?? "unknown-host")
        let probe = try breaker.acquire(operation: context.operation)
        do {
            let response = try await next(request, context)
            breaker.record(.success, probe: probe)
            return response
        } catch {
            let category = classifier.classify(error)
            if category == .cancelled {
                breaker.record(.ignored, probe: probe)
            } else if category.countsAsBreakerFailure {
                breaker.record(.failure(retryAfter: retryAfter(of: error)), probe: probe)
            } else {
                breaker.record(.success, probe: probe)
            }
            throw error
        }
    }

    private func retryAfter(of error: any Error) -> Duration? {
        guard let header = (error as? SalesforceError)?.retryAfterHeader else { return nil }
        // The breaker clamps to its own maxBreakDuration.
        return RetryAfter.delay(from: header, now: clock.wallClockNow, maximum: maxRetryAfter)
    }
}
