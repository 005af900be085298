import Foundation

/// The real clock: `ContinuousClock` for waits, the system date for calendar time.
public struct SystemClock: ResilienceClock {
    private static let clock = ContinuousClock()
    private static let origin = ContinuousClock.now

    /// Creates the system clock. Every instance shares one origin, so instants compare across them.
    public init() {}

    /// Time since the process first used the clock.
    public var now: ResilienceInstant {
        ResilienceInstant(sinceOrigin: Self.origin.duration(to: Self.clock.now))
    }

    /// The system date.
    public var wallClockNow: Date { Date() }

    /// Sleeps on `ContinuousClock`; throws `CancellationError` on cancellation.
    public func sleep(until deadline: ResilienceInstant) async throws {
        try await Self.clock.sleep(until: Self.origin.advanced(by: deadline.sinceOrigin), tolerance: nil)
    }
}
