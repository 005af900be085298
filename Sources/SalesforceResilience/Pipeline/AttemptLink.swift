/// The end of every chain: one attempt on the transport, bounded by the context's deadline when
/// there is a clock, and a failed answer turned into its error.
///
/// A transport that ``HTTPTransport/honoursRequestTimeout`` gets the time left as
/// ``HTTPRequest/timeout`` and is called directly; any other is raced against a timer.
struct AttemptLink: Sendable {
    let transport: any HTTPTransport
    let classifier: OutcomeClassifier
    /// `nil` leaves attempts unbounded.
    let clock: (any ResilienceClock)?
    /// The least time left for an attempt to be sent at all.
    let minimum: Duration
    /// Whether the transport bounds an attempt by its ``HTTPRequest/timeout`` itself.
    let transportHonoursTimeout: Bool

    init(transport: any HTTPTransport, classifier: OutcomeClassifier, clock: (any ResilienceClock)?, minimum: Duration) {
        self.transport = transport
        self.classifier = classifier
        self.clock = clock
        self.minimum = minimum
        self.transportHonoursTimeout = transport.honoursRequestTimeout
    }

    @inline(__always)
    func send(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let response = try await attempt(request, context)
        if let failure = classifier.error(for: response, operation: context.operation) {
            throw failure
        }
        return response
    }

    @inline(__always)
    private func attempt(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        guard let clock, let deadline = context.deadline else { return try await transport.send(request) }
        let left = deadline - clock.now
        guard left > minimum else { throw DeadlineExceededError(operation: context.operation, deadline: deadline) }
        guard transportHonoursTimeout else { return try await race(request, context, until: deadline, clock: clock) }
        var request = request
        request.timeout = min(request.timeout ?? left, left)
        do {
            return try await transport.send(request)
        } catch let error as TransportError where error.kind == .timedOut && clock.now >= deadline {
            throw DeadlineExceededError(operation: context.operation, deadline: deadline, cutAttemptInFlight: true)
        }
    }

    /// The attempt raced against a timer that ends at `deadline`.
    private func race(_ request: HTTPRequest, _ context: RequestContext, until deadline: ResilienceInstant,
                      clock: any ResilienceClock) async throws -> HTTPResponse {
        let (operation, transport) = (context.operation, self.transport)
        return try await withTimeLimit(at: deadline, clock: clock, expired: {
            DeadlineExceededError(operation: operation, deadline: deadline, cutAttemptInFlight: true)
        }) {
            try await transport.send(request)
        }
    }
}
