/// The smallest value each duration option takes effect with.
///
/// The library's one policy for out-of-range options: **nothing throws; a value below its
/// minimum is raised to it where it is used** (the property keeps what you set). A zero or
/// negative backoff, break or poll interval would otherwise spin a loop, and a negative timeout
/// would end every call before it started. Docs/Resilience.md lists the minimums.
enum OptionLimits {
    /// ``Backoff/initial`` (and so every backoff delay before jitter).
    static let backoff = Duration.milliseconds(1)
    /// ``CircuitBreakerOptions/breakDuration``.
    static let breakDuration = Duration.milliseconds(100)
    /// ``CircuitBreakerOptions/samplingWindow``.
    static let samplingWindow = Duration.milliseconds(100)
    /// ``BulkPollPolicy/initialInterval``.
    static let pollInterval = Duration.milliseconds(100)
    /// ``BulkPollPolicy/timeout`` and ``OutboxOptions/limitPause``.
    static let longWait = Duration.seconds(1)
    /// ``OutboxOptions/idleInterval``.
    static let idleInterval = Duration.milliseconds(10)
    /// Call and attempt timeouts.
    static let timeout = Duration.milliseconds(1)
}

extension Duration {
    /// The duration, or `minimum` if it is shorter.
    package func atLeast(_ minimum: Duration) -> Duration { Swift.max(self, minimum) }
}
