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

    /// The pipeline over `transport`, deadlines measured on the client's clock.
    func pipeline(transport: any HTTPTransport) -> Pipeline {
        let layers = self.layers
        return Pipeline(middleware: layers.all, transport: transport, classifier: configuration.classifier, clock: clock,
                        minimumAttemptTime: configuration.minimumAttemptTime) { attempt in
            let chain = CallStages(layers, attempt: attempt)
            return { request, context in try await chain.send(request, context) }
        }
    }

    /// Each layer by its type; the caller's own middleware as given.
    struct Layers: Sendable {
        /// The clock every layer reads.
        let clock: any ResilienceClock
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
            clock: clock,
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

// The chain written out layer by layer, each called by its type: the compiler inlines the layers
// and the closures they are handed, so a call takes a few async frames instead of two per layer.
// The caller's own middleware (known only as values) sit where they belong, as closures.

/// The layers once per call: Admission → [call middleware] → Metrics → Deadline → Retry → the attempt.
private struct CallStages: Sendable {
    let layers: StandardChain.Layers
    let attempt: AttemptStages
    /// The caller's call middleware in front of the rest, when there are any.
    let callMiddleware: MiddlewareNext?

    init(_ layers: StandardChain.Layers, attempt: AttemptLink) {
        self.layers = layers
        let stages = AttemptStages(layers, attempt: attempt)
        self.attempt = stages
        if layers.call.isEmpty {
            callMiddleware = nil
        } else {
            callMiddleware = Pipeline.chain(layers.call, over: { request, context in
                try await Self.metered(layers, stages, request, context)
            })
        }
    }

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        try await layers.admission.handle(request, context) { request, context in
            if let callMiddleware { return try await callMiddleware(request, context) }
            return try await Self.metered(layers, attempt, request, context)
        }
    }

    /// Metrics → Deadline → Retry → the attempt's stages.
    @inline(__always)
    private static func metered(_ layers: StandardChain.Layers, _ attempt: AttemptStages,
                                _ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        let now = layers.clock.now  // one read for the call's start and its deadline
        return try await layers.metrics.handle(request, context, ticket: now) { request, context in
            try await layers.deadline.handle(request, context, now: now) { request, context in
                try await layers.retry.handle(request, context) { request, context in
                    // The first attempt follows the read above with nothing waited for between.
                    try await attempt.send(request, context, now: context.attempt == 1 ? now : nil)
                }
            }
        }
    }
}

/// The layers once per attempt: [attempt middleware] → CircuitBreaker → AdaptiveThrottle → Auth →
/// LimitsObserver → the transport.
private struct AttemptStages: Sendable {
    let layers: StandardChain.Layers
    let attempt: AttemptLink
    /// The caller's attempt middleware in front of the rest, when there are any.
    let attemptMiddleware: MiddlewareNext?

    init(_ layers: StandardChain.Layers, attempt: AttemptLink) {
        self.layers = layers
        self.attempt = attempt
        attemptMiddleware = layers.attempt.isEmpty ? nil : Pipeline.chain(layers.attempt, over: { request, context in
            try await Self.guarded(layers, attempt, request, context, now: nil)
        })
    }

    /// - Parameter now: the time, when the caller read it and waited for nothing since.
    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext, now: ResilienceInstant?) async throws -> HTTPResponse {
        if let attemptMiddleware { return try await attemptMiddleware(request, context) }
        return try await Self.guarded(layers, attempt, request, context, now: now)
    }

    @inline(__always)
    private static func guarded(_ layers: StandardChain.Layers, _ attempt: AttemptLink, _ request: HTTPRequest,
                                _ context: RequestContext, now: ResilienceInstant?) async throws -> HTTPResponse {
        try await layers.breaker.handle(request, context) { request, context in
            guard let throttle = layers.throttle else { return try await authorised(layers, attempt, request, context) }
            return try await throttle.handle(request, context, now: now ?? layers.clock.now) { request, context in
                try await authorised(layers, attempt, request, context)
            }
        }
    }

    @inline(__always)
    private static func authorised(_ layers: StandardChain.Layers, _ attempt: AttemptLink,
                                   _ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        try await layers.auth.handle(request, context) { request, context in
            try await layers.limits.handle(request, context) { request, context in
                try await attempt.send(request, context)
            }
        }
    }
}
