/// When a ``CircuitBreaker`` opens and how it recovers.
public struct CircuitBreakerOptions: Sendable, Hashable {
    /// Opens after this many failures in a row. Default 5.
    public var consecutiveFailureThreshold: Int
    /// Opens when failures make up at least this share of calls in ``samplingWindow``… Default 0.5.
    public var failureRatioThreshold: Double
    /// …provided the window saw at least this many calls. Default 20, so a few failures at
    /// low traffic do not open it.
    public var minimumThroughput: Int
    /// The sliding window for the failure ratio. Default 30 s.
    public var samplingWindow: Duration
    /// How long the breaker stays open before probing. Default 8 s: one probe per 8 s is cheap
    /// during an outage of any length, and work resumes at most about 8 s after Salesforce does
    /// (measured over 100 storms: 4.3–4.7 s median, 8.3 s worst; benchmark (i)). It stays open
    /// at least as long as the server's `Retry-After`, up to ``maxBreakDuration``.
    public var breakDuration: Duration
    /// The longest a server's `Retry-After` can keep the breaker open. Default 300 s.
    public var maxBreakDuration: Duration
    /// Calls let through at once while half-open. Default 1.
    public var halfOpenMaxProbes: Int

    /// Creates options.
    public init(
        consecutiveFailureThreshold: Int = 5,
        failureRatioThreshold: Double = 0.5,
        minimumThroughput: Int = 20,
        samplingWindow: Duration = .seconds(30),
        breakDuration: Duration = .seconds(8),
        maxBreakDuration: Duration = .seconds(300),
        halfOpenMaxProbes: Int = 1
    ) {
        self.consecutiveFailureThreshold = max(1, consecutiveFailureThreshold)
        self.failureRatioThreshold = min(1, max(0, failureRatioThreshold))
        self.minimumThroughput = max(1, minimumThroughput)
        self.samplingWindow = samplingWindow
        self.breakDuration = breakDuration
        self.maxBreakDuration = max(breakDuration, maxBreakDuration)
        self.halfOpenMaxProbes = max(1, halfOpenMaxProbes)
    }

    /// The defaults.
    public static let `default` = CircuitBreakerOptions()
}

/// The state of a ``CircuitBreaker``.
public enum CircuitState: String, Sendable, Hashable {
    /// Calls flow; failures are counted.
    case closed
    /// Calls fail fast until the break ends.
    case open
    /// A limited number of probe calls test whether the server has recovered.
    case halfOpen
    /// Manually held open until ``CircuitBreaker/reset()``.
    case isolated
}
