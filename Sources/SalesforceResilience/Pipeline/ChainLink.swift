/// A chain whose layers are types the compiler knows, so that it can specialise and inline them
/// into a few async frames instead of one closure call per layer. ``Pipeline`` erases it once, at
/// the top.
protocol ChainLink: Sendable {
    /// Sends `request` through this link and the ones inside it.
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse
}

/// A middleware in front of the rest of the chain.
struct MiddlewareLink<Layer: FusedMiddleware, Inner: ChainLink>: ChainLink {
    let layer: Layer
    let inner: Inner

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        try await layer.handle(request, context) { request, context in try await inner.send(request, context) }
    }
}

/// Middleware known only as values (the caller's own), run in order in front of `inner`.
struct DynamicLink<Inner: ChainLink>: ChainLink {
    let next: MiddlewareNext?
    let inner: Inner

    init(_ middleware: [any Middleware], inner: Inner) {
        self.inner = inner
        guard !middleware.isEmpty else {
            self.next = nil
            return
        }
        var next: MiddlewareNext = { request, context in try await inner.send(request, context) }
        for layer in middleware.reversed() {
            let rest = next
            next = { request, context in try await layer.intercept(request, context: context, next: rest) }
        }
        self.next = next
    }

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        if let next { return try await next(request, context) }
        return try await inner.send(request, context)
    }
}

/// A middleware that may be absent (turned off by configuration).
struct OptionalLink<Layer: FusedMiddleware, Inner: ChainLink>: ChainLink {
    let layer: Layer?
    let inner: Inner

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        guard let layer else { return try await inner.send(request, context) }
        return try await layer.handle(request, context) { request, context in try await inner.send(request, context) }
    }
}

/// The end of every chain: one attempt on the transport, a failed answer turned into its error.
struct AttemptLink: ChainLink {
    let attempt: MiddlewareNext
    let classifier: OutcomeClassifier

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let response = try await attempt(request, context)
        if let failure = classifier.error(for: response, operation: context.operation) {
            throw failure
        }
        return response
    }
}
