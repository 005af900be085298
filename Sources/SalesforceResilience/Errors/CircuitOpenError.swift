/// A call refused without being sent, because the circuit breaker for its host is open.
public struct CircuitOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The breaker's key (the host).
    public var key: String
    /// When the breaker will let a probe through; `nil` while manually isolated.
    public var retryAt: ResilienceInstant?
    /// The operation that was refused.
    public var operation: String

    /// Creates the error.
    public init(key: String, retryAt: ResilienceInstant?, operation: String) {
        self.key = key
        self.retryAt = retryAt
        self.operation = operation
    }

    /// A one-line explanation.
    public var description: String {
        if let retryAt {
            return "\(operation): circuit open for \(key); next probe at \(retryAt)"
        }
        return "\(operation): circuit isolated for \(key) until reset"
    }
}

/// A call that ran out of its total time budget.
public struct DeadlineExceededError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The operation that ran out of time.
    public var operation: String
    /// The deadline that passed.
    public var deadline: ResilienceInstant
    /// Whether the deadline cut off an attempt in flight: its request may have been processed,
    /// as after any ambiguous failure. `false` when the call had not started or was waiting.
    public var cutAttemptInFlight: Bool

    /// Creates the error.
    public init(operation: String, deadline: ResilienceInstant, cutAttemptInFlight: Bool = false) {
        self.operation = operation
        self.deadline = deadline
        self.cutAttemptInFlight = cutAttemptInFlight
    }

    /// A one-line explanation.
    public var description: String {
        "\(operation): deadline \(deadline) passed" + (cutAttemptInFlight ? " during an attempt; its request may have been processed" : "")
    }
}
