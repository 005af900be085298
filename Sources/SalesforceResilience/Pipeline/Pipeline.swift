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
            Self.chain(middleware, over: { request, context in try await attempt.send(request, context) })
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
        self.chain = link(AttemptLink(transport: transport, classifier: classifier, clock: clock, minimum: max(.zero, minimumAttemptTime)))
    }

    /// `middleware`, outermost first, in front of `inner`.
    static func chain(_ middleware: [any Middleware], over inner: @escaping MiddlewareNext) -> MiddlewareNext {
        middleware.reversed().reduce(inner) { next, layer in
            { request, context in try await layer.intercept(request, context: context, next: next) }
        }
    }

    /// Sends `request` through the chain.
    ///
    /// - Returns: a 2xx response.
    /// - Throws: ``SalesforceError`` for a failed response, ``TransportError``,
    ///   ``CircuitOpenError``, ``DeadlineExceededError``, or `CancellationError`.
    public func send(_ request: HTTPRequest, context: RequestContext) async throws -> HTTPResponse {
        try await chain(request, context)
    }
}
