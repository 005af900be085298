/// How ``RetryMiddleware`` retries: attempts, backoff, and how far it trusts `Retry-After`.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts per call, the first included. Default 5.
    public var maxAttempts: Int
    /// The backoff between attempts when the server gave no `Retry-After`.
    public var backoff: Backoff
    /// The backoff after ``FailureCategory/requestLimited`` (the org's concurrency limit, or a
    /// `REQUEST_LIMIT_EXCEEDED` message not recognised) when there is no `Retry-After`. Default
    /// 5 s doubling to 60 s: long enough for long-running requests to finish, short of the
    /// minutes that only the daily limit deserves.
    public var limitBackoff: Backoff
    /// The longest `Retry-After` honoured; larger values are clamped to it. Default 120 s:
    /// a server's word is respected, but a garbage `Retry-After: 99999999` cannot park a caller
    /// for years (a problem Polly users hit with an uncapped delay).
    public var maxRetryAfter: Duration
    /// Whether a call refused by an open circuit waits for the breaker's next probe time, when
    /// attempts and the deadline allow, instead of failing at once. Default `false`: callers
    /// usually prefer to fall back immediately.
    public var waitForOpenCircuit: Bool

    /// Creates a policy.
    public init(
        maxAttempts: Int = 5, backoff: Backoff = .default, limitBackoff: Backoff = RetryPolicy.defaultLimitBackoff,
        maxRetryAfter: Duration = .seconds(120), waitForOpenCircuit: Bool = false
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.backoff = backoff
        self.limitBackoff = limitBackoff
        self.maxRetryAfter = maxRetryAfter
        self.waitForOpenCircuit = waitForOpenCircuit
    }

    /// The default ``limitBackoff``.
    public static let defaultLimitBackoff = Backoff(initial: .seconds(5), multiplier: 2, maximum: .seconds(60))

    /// The backoff for a failure of `category` without `Retry-After`.
    public func backoff(for category: FailureCategory) -> Backoff {
        category == .requestLimited ? limitBackoff : backoff
    }

    /// The defaults.
    public static let `default` = RetryPolicy()

    /// A policy that never retries.
    public static let none = RetryPolicy(maxAttempts: 1)
}
