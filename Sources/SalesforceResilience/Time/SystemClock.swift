import Foundation

/// The real clock: `ContinuousClock` for waits, the system date for calendar time.
public struct SystemClock: ResilienceClock {
    private static let sharedOrigin = ContinuousClock.now
    /// The shared origin, kept by each instance so that reading the time skips the global's
    /// once-check (every request reads the clock several times).
    private let origin: ContinuousClock.Instant

    /// Creates the system clock. Every instance shares one origin, so instants compare across them.
    public init() { origin = Self.sharedOrigin }

    /// Time since the process first used the clock.
    public var now: ResilienceInstant {
        ResilienceInstant(sinceOrigin: origin.duration(to: .now))
    }

    /// The system date.
    public var wallClockNow: Date { Date() }

    /// Sleeps on `ContinuousClock`; throws `CancellationError` on cancellation.
    public func sleep(until deadline: ResilienceInstant) async throws {
        try await ContinuousClock().sleep(until: origin.advanced(by: deadline.sinceOrigin), tolerance: nil)
    }
}
