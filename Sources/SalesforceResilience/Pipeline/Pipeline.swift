/// An ordered chain of ``Middleware`` in front of an ``HTTPTransport``, built once.
///
/// The first middleware is the outermost. After the transport, the ``OutcomeClassifier`` turns
/// every non-2xx response into a thrown ``SalesforceError``, so callers and middleware see either
/// a successful response or a typed error.
///
/// Given a clock, the pipeline also bounds every attempt by the call's
/// ``RequestContext/deadline`` (set by ``DeadlineMiddleware``): a transport that
/// ``HTTPTransport/honoursRequestTimeout`` gets the time left as ``HTTPRequest/timeout`` and is
/// called directly; any other is raced against a timer. Either way an attempt cut at the deadline
/// fails with ``DeadlineExceededError`` (``DeadlineExceededError/cutAttemptInFlight``), and an
/// attempt that would start after it is not sent.
///
/// ```swift
/// let clock = SystemClock()
/// let pipeline = Pipeline(
///     middleware: [DeadlineMiddleware(clock: clock), RetryMiddleware(clock: clock)],
///     transport: URLSessionTransport(), clock: clock)
/// let request = HTTPRequest(method: .get, url: URL(string: "https://acme.my.salesforce.com/services/data/")!)
/// let response = try await pipeline.send(request, context: .forRequest(request))
/// ```
public struct Pipeline: Sendable {
    /// The middleware, outermost first.
    public let middleware: [any Middleware]
    /// The transport at the end of the chain.
    public let transport: any HTTPTransport
    /// The classifier that turns failed responses into errors.
    public let classifier: OutcomeClassifier
    /// The clock deadlines are measured on, or `nil` when the pipeline leaves attempts unbounded
    /// (a ``DeadlineMiddleware`` that races the chain still bounds the call).
    public let clock: (any ResilienceClock)?
    /// The least time left before the deadline for an attempt to be sent at all.
    public let minimumAttemptTime: Duration

    /// The chain: each layer's `next` is the one inside it.
    private let chain: MiddlewareNext

    /// Creates a pipeline.
    ///
    /// - Parameters:
    ///   - clock: the clock the middleware measure deadlines on. Pass it so that each attempt is
    ///     bounded by ``RequestContext/deadline``; without it, only a racing
    ///     ``DeadlineMiddleware`` bounds a call.
    ///   - minimumAttemptTime: an attempt with less time than this left before the deadline is
    ///     not sent (``DeadlineExceededError`` with ``DeadlineExceededError/cutAttemptInFlight``
    ///     `false`): it would most likely be cut in flight, and an outcome nobody knows is worse
    ///     than a request that was never sent. Default zero.
    public init(
        middleware: [any Middleware], transport: any HTTPTransport, classifier: OutcomeClassifier = OutcomeClassifier(),
        clock: (any ResilienceClock)? = nil, minimumAttemptTime: Duration = .zero
    ) {
        self.init(middleware: middleware, transport: transport, classifier: classifier, clock: clock,
                  minimumAttemptTime: minimumAttemptTime) { attempt in
            let chain = DynamicLink(middleware, inner: attempt)
            return { request, context in try await chain.send(request, context) }
        }
    }

    /// A pipeline whose chain `link` builds in front of the attempt: the standard chain passes its
    /// layers as known types, so the compiler fuses them.
    init(
        middleware: [any Middleware], transport: any HTTPTransport, classifier: OutcomeClassifier,
        clock: (any ResilienceClock)?, minimumAttemptTime: Duration, link: (AttemptLink) -> MiddlewareNext
    ) {
        self.middleware = middleware
        self.transport = transport
        self.classifier = classifier
        self.clock = clock
        self.minimumAttemptTime = minimumAttemptTime
        let attempt = Self.attempt(transport, clock: clock, minimum: max(.zero, minimumAttemptTime))
        self.chain = link(AttemptLink(attempt: attempt, classifier: classifier))
    }

    /// Sends `request` through the chain.
    ///
    /// - Returns: a 2xx response.
    /// - Throws: ``SalesforceError`` for a failed response, ``TransportError``,
    ///   ``CircuitOpenError``, ``DeadlineExceededError``, or `CancellationError`.
    public func send(_ request: HTTPRequest, context: RequestContext) async throws -> HTTPResponse {
        try await chain(request, context)
    }

    /// One attempt on `transport`, bounded by the context's deadline when there is a clock.
    private static func attempt(_ transport: any HTTPTransport, clock: (any ResilienceClock)?, minimum: Duration) -> MiddlewareNext {
        guard let clock else { return { request, _ in try await transport.send(request) } }
        if transport.honoursRequestTimeout {
            return { request, context in
                guard let deadline = context.deadline else { return try await transport.send(request) }
                let left = deadline - clock.now
                guard left > minimum else { throw DeadlineExceededError(operation: context.operation, deadline: deadline) }
                var request = request
                request.timeout = min(request.timeout ?? left, left)
                do {
                    return try await transport.send(request)
                } catch let error as TransportError where error.kind == .timedOut && clock.now >= deadline {
                    throw DeadlineExceededError(operation: context.operation, deadline: deadline, cutAttemptInFlight: true)
                }
            }
        }
        return { request, context in
            guard let deadline = context.deadline else { return try await transport.send(request) }
            guard deadline - clock.now > minimum else {
                throw DeadlineExceededError(operation: context.operation, deadline: deadline)
            }
            let operation = context.operation
            return try await withTimeLimit(at: deadline, clock: clock, expired: {
                DeadlineExceededError(operation: operation, deadline: deadline, cutAttemptInFlight: true)
            }) {
                try await transport.send(request)
            }
        }
    }
}
