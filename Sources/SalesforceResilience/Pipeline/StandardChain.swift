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
    var middleware: [any Middleware] {
        var chain: [any Middleware] = [AdmissionMiddleware(modes: modes, budget: budgetGuard)]
        chain += configuration.callMiddleware
        chain += [
            MetricsMiddleware(recorder: metrics, clock: clock, events: events),
            DeadlineMiddleware(timeout: configuration.callTimeout, clock: clock, racesChain: !configuration.attemptMiddleware.isEmpty),
            RetryMiddleware(policy: configuration.retryPolicy, budget: retryBudget, clock: clock, events: events, random: random,
                            minimumAttemptTime: configuration.minimumAttemptTime),
        ]
        chain += configuration.attemptMiddleware
        chain.append(CircuitBreakerMiddleware(registry: breakers, clock: clock))
        if configuration.adaptiveThrottle.isEnabled {
            chain.append(AdaptiveThrottleMiddleware(throttle: throttle, clock: clock, minimumAttemptTime: configuration.minimumAttemptTime))
        }
        chain += [
            AuthMiddleware(tokens: tokens, instanceURL: configuration.instanceURL),
            LimitsObserverMiddleware(budget: budgetGuard),
        ]
        return chain
    }

    /// The pipeline over `transport`, deadlines measured on the client's clock.
    func pipeline(transport: any HTTPTransport) -> Pipeline {
        Pipeline(middleware: middleware, transport: transport, classifier: configuration.classifier, clock: clock,
                 minimumAttemptTime: configuration.minimumAttemptTime)
    }
}
