/// How ``RetryMiddleware`` retries: attempts, backoff, and how far it trusts `Retry-After`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per call, the first included. Default 5.
    public var maxAttempts: Int
    /// The backoff between attempts when the server gave no `Retry-After`.
    public var backoff: Backoff
    /// The longest `Retry-After` honoured; larger values are clamped to it. Default 120 s:
    /// a server's word is respected, but a garbage `Retry-After: 99999999` cannot park a caller
    /// for years (a problem Polly users hit with an uncapped delay).
    public var maxRetryAfter: Duration
    /// Whether a call refused by an open circuit waits for the breaker's next probe time, when
    /// attempts and the deadline allow, instead of failing at once. Default `false`: callers
    /// usually prefer to fall back immediately.
    public var waitForOpenCircuit: Bool

    /// Creates a policy.
    public init(maxAttempts: Int = 5, backoff: Backoff = .default, maxRetryAfter: Duration = .seconds(120), waitForOpenCircuit: Bool = false) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
        self.waitForOpenCircuit = waitForOpenCircuit
    }

    /// The defaults.
    public static let `default` = RetryPolicy()

    /// A policy that never retries.
    public static let none = RetryPolicy(maxAttempts: 1)
}
