import Foundation
import SalesforceResilience

/// A ``ResilienceClock`` whose time moves only when a test says so, so that minutes of
/// backoff and breaker pauses run in microseconds.
///
/// - ``Mode-swift.enum/manual``: sleepers wait until ``advance(by:)`` or ``advance(to:)``
///   passes their deadline. Use it to assert what happens *during* a wait.
/// - ``Mode-swift.enum/autoAdvance``: a sleep moves time forward to its own deadline and returns
///   at once. Use it to run a long scenario (a five-minute storm) as fast as the code can go.
///
/// The calendar date is ``startDate`` plus the virtual time elapsed, so HTTP-date `Retry-After`
/// values and token timestamps are deterministic too.
public final class VirtualClock: ResilienceClock {
    /// How time moves.
    public enum Mode: Sendable {
        /// Only ``advance(by:)`` and ``advance(to:)`` move time.
        case manual
        /// Each sleep moves time to its deadline at once.
        case autoAdvance
    }

    private struct Sleeper {
        let deadline: ResilienceInstant
        let continuation: CheckedContinuation<Void, any Error>
        /// A timeout guarding other work (``timeout(at:)``): it never moves time itself.
        let isTimer: Bool
    }

    private struct State {
        var now = ResilienceInstant.origin
        var sleepers: [UInt64: Sleeper] = [:]
        var cancelled: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    /// The default start date: 2026-01-01T00:00:00Z.
    public static let defaultStartDate = Date(timeIntervalSince1970: 1_767_225_600)

    /// How time moves.
    public let mode: Mode
    /// The calendar date at virtual time zero.
    public let startDate: Date
    private let state = Lock(State())

    /// Creates a clock at time zero.
    public init(mode: Mode = .manual, startDate: Date = VirtualClock.defaultStartDate) {
        self.mode = mode
        self.startDate = startDate
    }

    /// Virtual now.
    public var now: ResilienceInstant { state.withLock { $0.now } }

    /// ``startDate`` plus the virtual time elapsed.
    public var wallClockNow: Date { startDate.addingTimeInterval(now.sinceOrigin.timeInterval) }

    /// Virtual time elapsed since zero.
    public var elapsed: Duration { now.sinceOrigin }

    /// How many tasks are waiting in ``sleep(until:)`` (timeouts not counted).
    public var sleeperCount: Int { state.withLock { $0.sleepers.values.filter { !$0.isTimer }.count } }

    /// How many guards are waiting in ``timeout(at:)``: a call raced against its deadline has one.
    public var timerCount: Int { state.withLock { $0.sleepers.values.filter(\.isTimer).count } }

    /// Suspends until virtual time reaches `deadline` (manual) or moves time there (auto-advance).
    public func sleep(until deadline: ResilienceInstant) async throws {
        try Task.checkCancellation()
        if mode == .autoAdvance {
            // Time jumps to this sleeper's deadline; timeouts it passes fire.
            let due: [Sleeper] = state.withLock { state in
                state.now = max(state.now, deadline)
                let now = state.now
                let fired = state.sleepers.filter { $0.value.deadline <= now }
                for id in fired.keys { state.sleepers.removeValue(forKey: id) }
                return Array(fired.values)
            }
            for sleeper in due { sleeper.continuation.resume() }
            await Task.yield()
            try Task.checkCancellation()
            return
        }
        try await wait(until: deadline, isTimer: false)
    }

    /// A timeout guarding other work: waits for virtual time to reach `deadline` — through
    /// ``advance(to:)``, or another task's sleep in auto-advance mode — without moving it.
    public func timeout(at deadline: ResilienceInstant) async throws {
        try Task.checkCancellation()
        try await wait(until: deadline, isTimer: true)
    }

    private func wait(until deadline: ResilienceInstant, isTimer: Bool) async throws {
        let id: UInt64? = state.withLock { state in
            guard deadline > state.now else { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Registration { case cancelled, due, waiting }
                let registration = state.withLock { state -> Registration in
                    if state.cancelled.remove(id) != nil { return .cancelled }
                    if deadline <= state.now { return .due }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation, isTimer: isTimer)
                    return .waiting
                }
                switch registration {
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .due: continuation.resume()
                case .waiting: break
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                if let sleeper = state.sleepers.removeValue(forKey: id) { return sleeper }
                state.cancelled.insert(id)
                return nil
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward by `duration`, waking sleepers in deadline order and giving each woken
    /// task a chance to run (and sleep again) before time moves past its next deadline.
    public func advance(by duration: Duration) async {
        await advance(to: now + duration)
    }

    /// Moves time forward to `target`; see ``advance(by:)``.
    public func advance(to target: ResilienceInstant) async {
        while true {
            let due: Sleeper? = state.withLock { state in
                guard let (id, sleeper) = state.sleepers.min(by: { $0.value.deadline < $1.value.deadline }),
                      sleeper.deadline <= target
                else {
                    state.now = max(state.now, target)
                    return nil
                }
                state.sleepers.removeValue(forKey: id)
                state.now = max(state.now, sleeper.deadline)
                return sleeper
            }
            guard let due else { break }
            due.continuation.resume()
            await Self.settle()
        }
        await Self.settle()
    }

    /// Waits (without advancing time) until at least `count` tasks are sleeping on this clock.
    /// - Returns: `false` if that did not happen after many scheduler turns.
    @discardableResult
    public func waitForSleepers(_ count: Int, maxTurns: Int = 100_000) async -> Bool {
        for _ in 0..<maxTurns {
            if sleeperCount >= count { return true }
            await Task.yield()
        }
        return sleeperCount >= count
    }

    /// The earliest deadline of a task sleeping (or a timeout waiting) on this clock, if any.
    public var nextDeadline: ResilienceInstant? {
        state.withLock { $0.sleepers.values.map(\.deadline).min() }
    }

    /// Runs `work` on a ``Mode-swift.enum/manual`` clock, moving time to the next deadline only
    /// once every task has gone quiet: no task started or ended a sleep for `quietTurns`
    /// scheduler turns.
    ///
    /// ``Mode-swift.enum/autoAdvance`` moves time the moment one task sleeps, so tasks meant to
    /// start together can see different times when the machine is busy. Use this instead where a
    /// test counts what runs at the same time (concurrent batches, shared limits).
    public func drive<T: Sendable>(quietTurns: Int = 200, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        let driver = Task {
            while !Task.isCancelled {
                await settleSleepers(quietTurns: quietTurns)
                if let next = nextDeadline { await advance(to: next) }
            }
        }
        defer { driver.cancel() }
        return try await task.value
    }

    private func settleSleepers(quietTurns: Int) async {
        var last = state.withLock { ($0.sleepers.count, $0.nextID) }
        var quiet = 0
        while quiet < quietTurns && !Task.isCancelled {
            await Task.yield()
            let current = state.withLock { ($0.sleepers.count, $0.nextID) }
            quiet = current == last ? quiet + 1 : 0
            last = current
        }
    }

    private static func settle() async {
        for _ in 0..<20 { await Task.yield() }
    }
}

extension Duration {
    /// The duration in seconds as a `TimeInterval`.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
