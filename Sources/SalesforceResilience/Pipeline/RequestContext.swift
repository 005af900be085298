/// What the middleware chain knows about a call beyond its HTTP request.
///
/// Operations fill it in; middleware read it (and ``RetryMiddleware`` sets ``attempt``).
public struct RequestContext: Sendable, Hashable {
    /// How much a call matters when capacity must be shed.
    public enum Priority: String, Sendable, Hashable, Comparable {
        /// Shed first: reports, syncs that can wait.
        case normal
        /// Kept while non-critical work is shed (payments, for example).
        case critical

        /// `normal < critical`.
        public static func < (lhs: Priority, rhs: Priority) -> Bool {
            lhs == .normal && rhs == .critical
        }
    }

    /// A short name for the operation, used in events and errors (`"upsert Payment__c"`).
    public var operation: String
    /// Whether sending the request twice has the same effect as sending it once.
    ///
    /// Decides whether an ambiguous failure (timeout after sending) may be retried.
    public var isIdempotent: Bool
    /// How much the call matters when capacity is shed.
    public var priority: Priority
    /// The attempt number, starting at 1.
    public var attempt: Int
    /// When the whole call, retries included, must be over; `nil` for none.
    public var deadline: ResilienceInstant?

    /// Creates a context.
    public init(
        operation: String,
        isIdempotent: Bool,
        priority: Priority = .normal,
        attempt: Int = 1,
        deadline: ResilienceInstant? = nil
    ) {
        self.operation = operation
        self.isIdempotent = isIdempotent
        self.priority = priority
        self.attempt = attempt
        self.deadline = deadline
    }

    /// A context for `request` whose idempotency follows its HTTP method.
    public static func forRequest(_ request: HTTPRequest, operation: String? = nil) -> RequestContext {
        RequestContext(
            operation: operation ?? "\(request.method) \(request.url.path)",
            isIdempotent: request.method.isIdempotentByDefault
        )
    }
}
