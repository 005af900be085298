import Foundation

/// A point on a ``ResilienceClock``'s monotonic timeline: a duration since the clock's origin.
///
/// Instants are comparable only with instants of the same clock.
public struct ResilienceInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Time since the clock's origin.
    public var sinceOrigin: Duration

    /// Creates an instant at `sinceOrigin` from the clock's origin.
    public init(sinceOrigin: Duration) { self.sinceOrigin = sinceOrigin }

    /// The clock's origin.
    public static let origin = ResilienceInstant(sinceOrigin: .zero)

    /// Orders instants by time.
    public static func < (lhs: ResilienceInstant, rhs: ResilienceInstant) -> Bool {
        lhs.sinceOrigin < rhs.sinceOrigin
    }

    /// The instant `duration` later.
    public static func + (lhs: ResilienceInstant, rhs: Duration) -> ResilienceInstant {
        ResilienceInstant(sinceOrigin: lhs.sinceOrigin + rhs)
    }

    /// The time from `rhs` to `lhs` (negative if `lhs` is earlier).
    public static func - (lhs: ResilienceInstant, rhs: ResilienceInstant) -> Duration {
        lhs.sinceOrigin - rhs.sinceOrigin
    }

    /// The time since origin.
    public var description: String { "t+\(sinceOrigin)" }
}

/// The source of time for every wait in the library.
///
/// Production code uses ``SystemClock``; tests use `VirtualClock` from
/// `SalesforceResilienceTesting`, so minutes of backoff run in milliseconds.
public protocol ResilienceClock: Sendable {
    /// Now, on the monotonic timeline used for backoff, deadlines and breaker timing.
    var now: ResilienceInstant { get }

    /// Now, as a calendar date: used for HTTP-date `Retry-After` values and token timestamps.
    var wallClockNow: Date { get }

    /// Suspends until `deadline`; returns at once if it has passed.
    ///
    /// - Throws: `CancellationError` as soon as the calling task is cancelled.
    func sleep(until deadline: ResilienceInstant) async throws
}

extension ResilienceClock {
    /// Suspends for `duration`; see ``sleep(until:)``.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}
