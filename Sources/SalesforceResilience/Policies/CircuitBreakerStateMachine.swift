/// The breaker's rules as a value type: given the time and what happened, the next state.
///
/// Pure and synchronous so each transition is testable without tasks; ``CircuitBreaker`` guards
/// one instance with a lock.
struct CircuitBreakerStateMachine: Sendable {
    /// A call's admission.
    enum Permission: Equatable {
        case allowed(probe: Bool)
        case rejected(retryAt: ResilienceInstant?, state: CircuitState)
    }

    /// A finished call's outcome as the breaker counts it.
    enum Result {
        case success
        case failure(retryAfter: Duration?)
        /// Cancelled or otherwise unknowable: releases a probe slot, counts nothing.
        case ignored
    }

    private struct Bucket {
        var index: Int64
        var successes = 0
        var failures = 0
    }

    private static let bucketCount: Int64 = 10

    let options: CircuitBreakerOptions
    private(set) var state: CircuitState = .closed
    private(set) var openUntil: ResilienceInstant?
    private var consecutiveFailures = 0
    private var buckets: [Bucket] = []
    /// When the newest bucket's interval ends: until then a call counts into it without the
    /// division that finds its bucket (every call is counted).
    private var newestBucketEnd: ResilienceInstant?
    private var probesInFlight = 0

    init(options: CircuitBreakerOptions) { self.options = options }

    /// Asks to send a call at `now`; may move open → half-open.
    ///
    /// `now` is read only when the answer depends on it (an open breaker whose break may be over).
    mutating func acquire(now: @autoclosure () -> ResilienceInstant) -> Permission {
        switch state {
        case .closed:
            return .allowed(probe: false)
        case .isolated:
            return .rejected(retryAt: nil, state: .isolated)
        case .open:
            guard let openUntil, now() >= openUntil else { return .rejected(retryAt: openUntil, state: .open) }
            state = .halfOpen
            probesInFlight = 0
            fallthrough
        case .halfOpen:
            guard probesInFlight < options.halfOpenMaxProbes else { return .rejected(retryAt: nil, state: .halfOpen) }
            probesInFlight += 1
            return .allowed(probe: true)
        }
    }

    /// Records a finished call.
    mutating func record(_ result: Result, probe: Bool, now: ResilienceInstant) {
        if probe { probesInFlight = max(0, probesInFlight - 1) }
        switch (state, result) {
        case (_, .ignored), (.isolated, _), (.open, _):
            return
        case (.halfOpen, .success):
            if probe { close() }
        case (.halfOpen, .failure(let retryAfter)):
            if probe { open(now: now, retryAfter: retryAfter) }
        case (.closed, .success):
            consecutiveFailures = 0
            count(failure: false, now: now)
        case (.closed, .failure(let retryAfter)):
            consecutiveFailures += 1
            count(failure: true, now: now)
            if consecutiveFailures >= options.consecutiveFailureThreshold || ratioExceeded(now: now) {
                open(now: now, retryAfter: retryAfter)
            }
        }
    }

    /// Opens on someone else's evidence (another worker of a fleet saw the outage) until
    /// `until`, or keeps an open break that ends later. An isolated breaker stays isolated.
    mutating func trip(until: ResilienceInstant) {
        switch state {
        case .isolated: return
        case .open: openUntil = max(openUntil ?? until, until)
        case .closed, .halfOpen:
            state = .open
            openUntil = until
            consecutiveFailures = 0
            buckets.removeAll()
            probesInFlight = 0
        }
    }

    mutating func isolate() {
        state = .isolated
        openUntil = nil
    }

    mutating func close() {
        state = .closed
        openUntil = nil
        consecutiveFailures = 0
        buckets.removeAll()
        probesInFlight = 0
    }

    private mutating func open(now: ResilienceInstant, retryAfter: Duration?) {
        let breakDuration = options.breakDuration.atLeast(OptionLimits.breakDuration)
        let duration = min(max(breakDuration, retryAfter ?? .zero), options.maxBreakDuration.atLeast(breakDuration))
        state = .open
        openUntil = now + duration
        consecutiveFailures = 0
        buckets.removeAll()
        probesInFlight = 0
    }

    private mutating func count(failure: Bool, now: ResilienceInstant) {
        if let end = newestBucketEnd, now < end, !buckets.isEmpty {
            if failure { buckets[buckets.count - 1].failures += 1 } else { buckets[buckets.count - 1].successes += 1 }
            return
        }
        let width = options.samplingWindow.atLeast(OptionLimits.samplingWindow) / Int(Self.bucketCount)
        let index = width > .zero ? Int64(now.sinceOrigin / width) : 0
        buckets.removeAll { $0.index <= index - Self.bucketCount }
        if buckets.last?.index != index { buckets.append(Bucket(index: index)) }
        if failure { buckets[buckets.count - 1].failures += 1 } else { buckets[buckets.count - 1].successes += 1 }
        newestBucketEnd = width > .zero ? ResilienceInstant(sinceOrigin: width * (index + 1)) : nil
    }

    private func ratioExceeded(now: ResilienceInstant) -> Bool {
        let failures = buckets.reduce(0) { $0 + $1.failures }
        let total = buckets.reduce(0) { $0 + $1.successes + $1.failures }
        return total >= options.minimumThroughput && Double(failures) / Double(total) >= options.failureRatioThreshold
    }
}
