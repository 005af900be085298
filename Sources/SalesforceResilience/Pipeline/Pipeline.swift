/// An ordered chain of ``Middleware`` in front of an ``HTTPTransport``.
///
/// The first middleware is the outermost. After the transport, the ``OutcomeClassifier`` turns
/// every non-2xx response into a thrown ``SalesforceError``, so callers and middleware see either
/// a successful response or a typed error.
///
/// ```swift
/// let pipeline = Pipeline(
///     middleware: [DeadlineMiddleware(...), RetryMiddleware(...), CircuitBreakerMiddleware(...)],
///     transport: URLSessionTransport())
/// let response = try await pipeline.send(request, context: .forRequest(request))
/// ```
public struct Pipeline: Sendable {
    /// The middleware, outermost first.
    public let middleware: [any Middleware]
    /// The transport at the end of the chain.
    public let transport: any HTTPTransport
    /// The classifier that turns failed responses into errors.
    public let classifier: OutcomeClassifier

    /// Creates a pipeline.
    public init(middleware: [any Middleware], transport: any HTTPTransport, classifier: OutcomeClassifier = OutcomeClassifier()) {
        self.middleware = middleware
        self.transport = transport
        self.classifier = classifier
    }

    /// Sends `request` through the chain.
    ///
    /// - Returns: a 2xx response.
    /// - Throws: ``SalesforceError`` for a failed response, ``TransportError``,
    ///   ``CircuitOpenError``, ``DeadlineExceededError``, or `CancellationError`.
    public func send(_ request: HTTPRequest, context: RequestContext) async throws -> HTTPResponse {
        let transport = self.transport
        let classifier = self.classifier
        var next: MiddlewareNext = { request, context in
            try Task.checkCancellation()
            let response = try await transport.send(request)
            if let failure = classifier.error(for: response, operation: context.operation) {
                throw failure
            }
            return response
        }
        for layer in middleware.reversed() {
            let inner = next
            next = { request, context in
                try await layer.intercept(request, context: context, next: inner)
            }
        }
        return try await next(request, context)
    }
}
