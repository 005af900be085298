import Synchronization

/// Watches the org's API usage and sheds non-critical work before the daily limit is reached.
///
/// Fed by ``LimitsObserverMiddleware`` from `Sforce-Limit-Info` on every response. Crossing
/// ``Options-swift.struct/warningThreshold`` (either way) is an event; past
/// ``Options-swift.struct/shedThreshold`` non-critical requests are refused by
/// ``AdmissionMiddleware`` until usage falls below it. A 403 `REQUEST_LIMIT_EXCEEDED` starts
/// shedding at once, until a response shows usage lower than when it started.
public final class APIBudgetGuard: Sendable {
    /// Thresholds as fractions of the daily allowance.
    public struct Options: Sendable, Hashable {
        /// Usage that raises a warning event. Default 0.8 (the runbook's 80 %).
        public var warningThreshold: Double
        /// Usage past which non-critical work is shed. Default 0.95.
        public var shedThreshold: Double

        /// Creates options.
        public init(warningThreshold: Double = 0.8, shedThreshold: Double = 0.95) {
            self.warningThreshold = warningThreshold
            self.shedThreshold = max(warningThreshold, shedThreshold)
        }

        /// The defaults.
        public static let `default` = Options()
    }

    private struct State {
        var latest: APIUsage?
        var warned = false
        var shedding = false
        var limitHitAt: APIUsage?
    }

    /// The thresholds.
    public let options: Options
    private let state = Lock(State())
    /// `State.shedding`, written with it under the lock and read by every request without it.
    private let shedding = Atomic(false)
    private let events: ResilienceEventSink

    /// Creates a guard.
    public init(options: Options = .default, events: ResilienceEventSink = .none) {
        self.options = options
        self.events = events
    }

    /// The latest usage seen.
    public var latest: APIUsage? { state.withLock { $0.latest } }

    /// Whether non-critical work is being shed.
    public var isShedding: Bool { shedding.load(ordering: .acquiring) }

    /// Records a usage figure and emits threshold events.
    public func record(_ usage: APIUsage) {
        var emitted: [ResilienceEvent] = []
        state.withLock { state in
            state.latest = usage
            let fraction = usage.fraction
            if fraction >= options.warningThreshold, !state.warned {
                state.warned = true
                emitted.append(.apiUsageThresholdCrossed(threshold: options.warningThreshold, fraction: fraction, rising: true))
            } else if fraction < options.warningThreshold, state.warned {
                state.warned = false
                emitted.append(.apiUsageThresholdCrossed(threshold: options.warningThreshold, fraction: fraction, rising: false))
            }
            var shed = fraction >= options.shedThreshold
            if let hit = state.limitHitAt {
                if usage.used < hit.used || fraction < options.shedThreshold && usage.used < hit.max { state.limitHitAt = nil } else { shed = true }
            }
            if shed != state.shedding {
                state.shedding = shed
                shedding.store(shed, ordering: .releasing)
                emitted.append(.apiUsageThresholdCrossed(threshold: options.shedThreshold, fraction: fraction, rising: shed))
            }
        }
        for event in emitted { events.emit(event) }
    }

    /// Records a 403 `REQUEST_LIMIT_EXCEEDED`: shed until usage is seen to fall.
    public func recordLimitExceeded(_ usage: APIUsage?) {
        let started = state.withLock { state -> Bool in
            state.limitHitAt = usage ?? state.latest ?? APIUsage(used: Int.max, max: 0)
            defer {
                state.shedding = true
                shedding.store(true, ordering: .releasing)
            }
            return !state.shedding
        }
        if started { events.emit(.apiUsageThresholdCrossed(threshold: options.shedThreshold, fraction: usage?.fraction ?? 1, rising: true)) }
    }
}
