import Foundation

/// Capped exponential backoff with jitter.
///
/// The *n*-th retry waits `min(maximum, initial × multiplier^(n-1))`, then jitter spreads it so
/// that clients failing together do not retry together.
public struct Backoff: Sendable, Hashable {
    /// How the computed delay is randomised.
    public enum Jitter: String, Sendable, Hashable {
        /// Exactly the computed delay. Only for tests and single clients.
        case none
        /// Uniform in `[0, delay]`: spreads load most, but may retry at once.
        case full
        /// Uniform in `[delay/2, delay]`: spreads load while keeping a minimum pause.
        case equal
    }

    /// The first retry's delay before jitter. Default 500 ms; at least 1 ms takes effect.
    public var initial: Duration
    /// Growth per retry. Default 2.
    public var multiplier: Double
    /// The longest delay before jitter. Default 30 s, shorter than Salesforce's typical
    /// 503 windows so a client notices recovery promptly.
    public var maximum: Duration
    /// The jitter. Default ``Jitter-swift.enum/equal``.
    public var jitter: Jitter

    /// Creates a backoff.
    public init(initial: Duration = .milliseconds(500), multiplier: Double = 2, maximum: Duration = .seconds(30), jitter: Jitter = .equal) {
        self.initial = initial
        self.multiplier = max(1, multiplier)
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The defaults.
    public static let `default` = Backoff()

    /// The delay before jitter for retry number `retry` (1 for the first retry).
    public func baseDelay(forRetry retry: Int) -> Duration {
        let initial = self.initial.atLeast(OptionLimits.backoff)
        let maximum = self.maximum.atLeast(initial)
        let exponent = Double(max(0, retry - 1))
        let factor = pow(max(1, multiplier), exponent)
        let seconds = min(maximum.seconds, initial.seconds * factor)
        return seconds.isFinite ? .nanoseconds(Int64(seconds * 1e9)) : maximum
    }

    /// The jittered delay for retry number `retry`, given a uniform sample `unit` in `[0, 1)`.
    public func delay(forRetry retry: Int, unit: Double) -> Duration {
        let base = baseDelay(forRetry: retry)
        switch jitter {
        case .none: return base
        case .full: return base * unit
        case .equal: return base / 2 + (base / 2) * unit
        }
    }
}
