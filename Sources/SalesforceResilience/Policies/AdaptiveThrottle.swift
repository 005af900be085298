import Foundation
import Synchronization

/// Settings for ``AdaptiveThrottle``.
public struct AdaptiveThrottleOptions: Sendable, Hashable {
    /// Whether the client lowers its own send rate when Salesforce throttles it. Default `true`.
    public var isEnabled: Bool
    /// The share of the send rate kept after a throttling answer (a 429, or a concurrency
    /// `REQUEST_LIMIT_EXCEEDED`). Default 0.85: gentle, so that the rate settles close under
    /// the server's limit instead of sawing far below it.
    public var decrease: Double
    /// How fast the rate climbs back while no throttling answer comes, as a share of the rate
    /// set at the last decrease, per second. Default 0.05: back to where it was throttled in
    /// about three seconds.
    public var recoveryPerSecond: Double
    /// The lowest send rate, in requests per second. Default 1.
    public var minimumRate: Double
    /// After this long without a throttling answer the limit is lifted altogether. Default 60 s.
    public var liftAfter: Duration

    /// Creates options; out-of-range values are raised or lowered to the nearest sensible one
    /// (`decrease` within 0.1…0.99, rates and durations above zero).
    public init(isEnabled: Bool = true, decrease: Double = 0.85, recoveryPerSecond: Double = 0.05, minimumRate: Double = 1,
                liftAfter: Duration = .seconds(60)) {
        self.isEnabled = isEnabled
        self.decrease = min(0.99, max(0.1, decrease.isFinite ? decrease : 0.85))
        self.recoveryPerSecond = max(0.001, recoveryPerSecond.isFinite ? recoveryPerSecond : 0.05)
        self.minimumRate = max(0.01, minimumRate.isFinite ? minimumRate : 1)
        self.liftAfter = liftAfter.atLeast(.seconds(1))
    }

    /// The defaults.
    public static let `default` = AdaptiveThrottleOptions()
}

/// The client's own send rate, lowered when Salesforce throttles and raised again when it
/// stops: an adaptive token bucket shared by every caller of one client, as the AWS SDKs'
/// adaptive retry mode does, so that a throttled integration does not keep arriving at the
/// limit.
///
/// Until the first throttling answer there is no limit. On one, the rate becomes
/// ``AdaptiveThrottleOptions/decrease`` × the rate actually sent in the last second (or × the
/// current limit, if lower); further throttling answers within the same second do not lower it
/// again. Each request then takes the next free slot (1 / rate apart). The rate climbs back
/// linearly while requests succeed, and the limit is lifted after
/// ``AdaptiveThrottleOptions/liftAfter`` without throttling.
public final class AdaptiveThrottle: Sendable {
    struct State {
        /// Requests per second; `nil` while unlimited.
        var rate: Double?
        /// The rate set at the last decrease, which recovery is a share of.
        var floor: Double = 0
        var nextSlot: ResilienceInstant = .origin
        /// The next slot of the critical requests' line.
        var nextCriticalSlot: ResilienceInstant = .origin
        /// Slots taken and given back unused, earliest first.
        var freed: [ResilienceInstant] = []
        var lastDecrease: ResilienceInstant?
        var lastIncrease: ResilienceInstant = .origin
        /// Requests sent in the current and the previous whole second.
        var window: Int64 = .min
        var sentThisWindow = 0
        var sentLastWindow = 0
    }

    /// The options in force.
    public let options: AdaptiveThrottleOptions
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink
    private let state = Lock(State())
    /// Whether `State.rate` is set: written with it under the lock, read without it by
    /// ``recordSuccess()``, which every request calls and which has nothing to do without a rate.
    private let limiting = Atomic(false)

    /// Creates a throttle on `clock`.
    public init(options: AdaptiveThrottleOptions = .default, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none) {
        self.options = options
        self.clock = clock
        self.events = events
    }

    /// The send rate in requests per second; `nil` while there is no limit.
    public var rate: Double? { state.withLock { $0.rate } }

    /// Takes the next slot for a request; returns how long to wait before sending it, or `nil`
    /// (and takes nothing) if that slot would not come before `deadline`.
    ///
    /// A slot a cancelled caller gave back (``giveBack(_:)``) is taken first. Critical requests
    /// (the outbox's writes) wait only behind other critical ones: each moves the line of normal
    /// requests back by one slot instead, so that queued reads never hold up a write.
    public func acquire(before deadline: ResilienceInstant? = nil, priority: RequestContext.Priority = .normal) -> Duration? {
        acquire(before: deadline, priority: priority, now: clock.now)
    }

    /// ``acquire(before:priority:)`` at `now`, read by the caller.
    func acquire(before deadline: ResilienceInstant?, priority: RequestContext.Priority, now: ResilienceInstant) -> Duration? {
        state.withLock { state in
            roll(&state, to: now)
            guard let rate = state.rate else {
                state.sentThisWindow += 1
                return .zero
            }
            let interval = Duration.nanoseconds(Int64(1e9 / rate))
            // Slots given back more than a slot ago are spent: they must not add up to a burst.
            state.freed.removeAll { $0 + interval < now }
            if let freed = state.freed.first, freed <= max(now, state.nextSlot) {
                let slot = max(now, freed)
                if let deadline, slot >= deadline { return nil }
                state.freed.removeFirst()
                state.sentThisWindow += 1
                return slot - now
            }
            let slot: ResilienceInstant
            switch priority {
            case .critical:
                slot = max(now, state.nextCriticalSlot)
                if let deadline, slot >= deadline { return nil }
                state.nextCriticalSlot = slot + interval
                state.nextSlot = max(state.nextSlot, now) + interval
            case .normal:
                slot = max(now, state.nextSlot, state.nextCriticalSlot)
                if let deadline, slot >= deadline { return nil }
                state.nextSlot = slot + interval
            }
            state.sentThisWindow += 1
            return slot - now
        }
    }

    /// Gives back the slot at `slot` that a caller took and will not use (it was cancelled while
    /// waiting for it): the next request takes it instead of a later one.
    public func giveBack(_ slot: ResilienceInstant) {
        let now = clock.now
        guard slot > now else { return }
        state.withLock { state in
            guard state.rate != nil else { return }
            state.sentThisWindow = max(0, state.sentThisWindow - 1)
            state.freed.insert(slot, at: state.freed.firstIndex { $0 > slot } ?? state.freed.endIndex)
        }
    }

    /// Salesforce throttled a request: lower the rate (once per second at most).
    public func recordThrottled() {
        guard options.isEnabled else { return }
        let now = clock.now
        let changed: Double? = state.withLock { state in
            if let last = state.lastDecrease, now - last < .seconds(1) { return nil }
            roll(&state, to: now)
            let sent = Double(max(state.sentLastWindow, state.sentThisWindow))
            let current = state.rate.map { min($0, max(sent, options.minimumRate)) } ?? max(sent, options.minimumRate)
            let lowered = max(options.minimumRate, current * options.decrease)
            state.rate = lowered
            limiting.store(true, ordering: .releasing)
            state.floor = lowered
            state.lastDecrease = now
            state.lastIncrease = now
            return lowered
        }
        if let changed { events.emit(.sendRateChanged(requestsPerSecond: changed)) }
    }

    /// A request went through: raise the rate with the time passed, or lift the limit.
    public func recordSuccess() {
        guard limiting.load(ordering: .acquiring) else { return }
        let clock = self.clock
        let changed: Double?? = state.withLock { state in
            guard let rate = state.rate else { return nil }
            let now = clock.now  // only while a rate is set: every request records
            if let last = state.lastDecrease, now - last >= options.liftAfter {
                state.rate = nil
                limiting.store(false, ordering: .releasing)
                return .some(nil)
            }
            let elapsed = (now - state.lastIncrease).seconds
            guard elapsed > 0 else { return nil }
            state.rate = rate + state.floor * options.recoveryPerSecond * elapsed
            state.lastIncrease = now
            return nil
        }
        if let lifted = changed { events.emit(.sendRateChanged(requestsPerSecond: lifted)) }
    }

    /// Moves the send counts to the whole second `now` falls in.
    private func roll(_ state: inout State, to now: ResilienceInstant) {
        let window = now.sinceOrigin.components.seconds
        if window != state.window {
            state.sentLastWindow = window == state.window &+ 1 ? state.sentThisWindow : 0
            state.sentThisWindow = 0
            state.window = window
        }
    }
}
