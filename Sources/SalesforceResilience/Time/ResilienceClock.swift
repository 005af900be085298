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

    /// Suspends until `deadline` as a timeout that guards other work (a call's deadline racing
    /// the call). A real clock just sleeps; a virtual clock waits for its time to get there by
    /// other means instead of moving it, so a guard does not fast-forward the work it guards.
    ///
    /// - Throws: `CancellationError` as soon as the calling task is cancelled.
    func timeout(at deadline: ResilienceInstant) async throws
}

extension ResilienceClock {
    /// Sleeps until `deadline`: for clocks whose sleeping does not move time.
    public func timeout(at deadline: ResilienceInstant) async throws {
        try await sleep(until: deadline)
    }

    /// Suspends for `duration`; see ``sleep(until:)``.
    public func sleep(for duration: Duration) async throws {
        try await sleep(until: now + duration)
    }
}
