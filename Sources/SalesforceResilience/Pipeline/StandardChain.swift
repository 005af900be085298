/// The chain every ``SalesforceClient`` call takes, assembled in this one place:
///
/// `Admission → [call middleware] → Metrics → Deadline → Retry → [attempt middleware] → CircuitBreaker → AdaptiveThrottle → Auth → LimitsObserver → transport`
///
/// Every wait inside the deadline honours it (the retry's and the throttle's waits, the token
/// fetch in ``AuthMiddleware``), and the ``Pipeline`` bounds each attempt by it, so the
/// ``DeadlineMiddleware`` does not race the chain. Attempt middleware of the caller's might wait
/// without looking at the deadline; with any, the deadline races the chain as before.
struct StandardChain {
    let configuration: SalesforceConfiguration
    let modes: ModeSwitch
    let budgetGuard: APIBudgetGuard
    let metrics: MetricsRecorder
    let retryBudget: RetryBudget
    let breakers: CircuitBreakerRegistry
    let throttle: AdaptiveThrottle
    let tokens: TokenStore
    let clock: any ResilienceClock
    let events: ResilienceEventSink
    let random: RandomSource

    /// The middleware, outermost first.
    var middleware: [any Middleware] { layers.all }

    /// The pipeline over `transport`, deadlines measured on the client's clock.
    func pipeline(transport: any HTTPTransport) -> Pipeline {
        let layers = self.layers
        return Pipeline(middleware: layers.all, transport: transport, classifier: configuration.classifier, clock: clock,
                        minimumAttemptTime: configuration.minimumAttemptTime) { attempt in
            let chain = MiddlewareLink(layer: layers.admission, inner: DynamicLink(layers.call, inner:
                MiddlewareLink(layer: layers.metrics, inner: MiddlewareLink(layer: layers.deadline, inner:
                MiddlewareLink(layer: layers.retry, inner: DynamicLink(layers.attempt, inner:
                MiddlewareLink(layer: layers.breaker, inner: OptionalLink(layer: layers.throttle, inner:
                MiddlewareLink(layer: layers.auth, inner: MiddlewareLink(layer: layers.limits, inner: attempt))))))))))
            return { request, context in try await chain.send(request, context) }
        }
    }

    /// Each layer by its type; the caller's own middleware as given.
    private struct Layers {
        let admission: AdmissionMiddleware
        let call: [any Middleware]
        let metrics: MetricsMiddleware
        let deadline: DeadlineMiddleware
        let retry: RetryMiddleware
        let attempt: [any Middleware]
        let breaker: CircuitBreakerMiddleware
        let throttle: AdaptiveThrottleMiddleware?
        let auth: AuthMiddleware
        let limits: LimitsObserverMiddleware

        /// Outermost first.
        var all: [any Middleware] {
            var chain: [any Middleware] = [admission]
            chain += call
            chain += [metrics, deadline, retry] as [any Middleware]
            chain += attempt
            chain.append(breaker)
            if let throttle { chain.append(throttle) }
            chain += [auth, limits] as [any Middleware]
            return chain
        }
    }

    private var layers: Layers {
        Layers(
            admission: AdmissionMiddleware(modes: modes, budget: budgetGuard),
            call: configuration.callMiddleware,
            metrics: MetricsMiddleware(recorder: metrics, clock: clock, events: events),
            deadline: DeadlineMiddleware(timeout: configuration.callTimeout, clock: clock, racesChain: !configuration.attemptMiddleware.isEmpty),
            retry: RetryMiddleware(policy: configuration.retryPolicy, budget: retryBudget, clock: clock, events: events, random: random,
                                   minimumAttemptTime: configuration.minimumAttemptTime),
            attempt: configuration.attemptMiddleware,
            breaker: CircuitBreakerMiddleware(registry: breakers, clock: clock),
            throttle: configuration.adaptiveThrottle.isEnabled
                ? AdaptiveThrottleMiddleware(throttle: throttle, clock: clock, minimumAttemptTime: configuration.minimumAttemptTime) : nil,
            auth: AuthMiddleware(tokens: tokens, instanceURL: configuration.instanceURL),
            limits: LimitsObserverMiddleware(budget: budgetGuard))
    }
}
