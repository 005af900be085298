
/// A point-in-time view of a client's health: what ``MetricsRecorder/snapshot()`` returns.
public struct MetricsSnapshot: Sendable, Hashable {
    /// Calls finished (after retries), successful or not.
    public var calls: Int
    /// Calls that succeeded.
    public var successes: Int
    /// `successes / calls`; 1 when there were no calls.
    public var successRate: Double { calls == 0 ? 1 : Double(successes) / Double(calls) }
    /// Failed calls by category.
    public var failuresByCategory: [FailureCategory: Int]
    /// Failed calls by Salesforce error code (calls without a code are not counted here).
    public var failuresByErrorCode: [String: Int]
    /// Latency percentiles of recent calls (the last ``MetricsRecorder/reservoirSize``).
    public var p50: Duration?
    /// The 95th percentile.
    public var p95: Duration?
    /// The 99th percentile.
    public var p99: Duration?
    /// Retries scheduled.
    public var retries: Int
    /// Times a breaker opened.
    public var breakerOpens: Int
    /// Token refreshes after a 401.
    public var tokenRefreshes: Int

    /// The category with the most failures, if any.
    public var dominantFailure: FailureCategory? {
        failuresByCategory.max { $0.value < $1.value || ($0.value == $1.value && $0.key.rawValue > $1.key.rawValue) }?.key
    }
}

/// Collects ``MetricsSnapshot`` figures. Updates are O(1) under a short lock; percentiles are
/// computed only when a snapshot is taken.
public final class MetricsRecorder: Sendable {
    /// Latencies kept for percentiles.
    public static let reservoirSize = 4_096

    private struct State {
        var calls = 0
        var successes = 0
        var byCategory: [FailureCategory: Int] = [:]
        var byCode: [String: Int] = [:]
        var latencies: [Duration] = []
        var next = 0
        var retries = 0
        var breakerOpens = 0
        var tokenRefreshes = 0
    }

    private let state = Lock(State())

    /// Creates an empty recorder.
    public init() {}

    /// Records a finished call.
    public func recordCall(latency: Duration, failure: FailureCategory?, errorCode: String? = nil) {
        state.withLock { state in
            state.calls += 1
            if let failure {
                state.byCategory[failure, default: 0] += 1
                if let errorCode { state.byCode[errorCode, default: 0] += 1 }
            } else {
                state.successes += 1
            }
            if state.latencies.count < Self.reservoirSize {
                state.latencies.append(latency)
            } else {
                state.latencies[state.next] = latency
                state.next = (state.next + 1) % Self.reservoirSize
            }
        }
    }

    /// Counts the events the snapshot reports: retries, breaker opens, token refreshes.
    public func record(_ event: ResilienceEvent) {
        switch event {
        case .retryScheduled: state.withLock { $0.retries += 1 }
        case .breakerStateChanged(_, _, .open): state.withLock { $0.breakerOpens += 1 }
        case .tokenRefreshStarted: state.withLock { $0.tokenRefreshes += 1 }
        default: break
        }
    }

    /// The figures now.
    public func snapshot() -> MetricsSnapshot {
        let copy = state.withLock { $0 }
        let sorted = copy.latencies.sorted()
        func percentile(_ p: Double) -> Duration? {
            guard !sorted.isEmpty else { return nil }
            let rank = Int((p * Double(sorted.count)).rounded(.up))  // nearest rank
            return sorted[max(0, min(sorted.count - 1, rank - 1))]
        }
        return MetricsSnapshot(
            calls: copy.calls, successes: copy.successes, failuresByCategory: copy.byCategory, failuresByErrorCode: copy.byCode,
            p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99),
            retries: copy.retries, breakerOpens: copy.breakerOpens, tokenRefreshes: copy.tokenRefreshes)
    }
}

/// Records each call's final outcome and total latency (retries included) in a ``MetricsRecorder``,
/// and emits it as ``ResilienceEvent/callCompleted(operation:outcome:errorCode:duration:)``.
/// Place it outside the retry middleware.
public struct MetricsMiddleware: Middleware, InlineMiddleware {
    /// Where figures go.
    public let recorder: MetricsRecorder
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink

    /// Creates the middleware.
    public init(recorder: MetricsRecorder, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none) {
        self.recorder = recorder
        self.clock = clock
        self.events = events
    }

    /// Times the call and records how it ended.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    /// When the call started.
    func before(_ request: HTTPRequest, _ context: RequestContext) -> ResilienceInstant { clock.now }

    func succeeded(_ response: HTTPResponse, _ start: ResilienceInstant, _ context: RequestContext) {
        let latency = clock.now - start
        recorder.recordCall(latency: latency, failure: nil)
        events.emit(.callCompleted(operation: context.operation, outcome: nil, errorCode: nil, duration: latency))
    }

    func failed(_ error: any Error, _ start: ResilienceInstant, _ context: RequestContext) -> any Error {
        let category = FailureCategory(of: error)
        if category != .cancelled {
            let latency = clock.now - start
            let code = (error as? SalesforceError)?.errorCode
            recorder.recordCall(latency: latency, failure: category, errorCode: code)
            events.emit(.callCompleted(operation: context.operation, outcome: category, errorCode: code, duration: latency))
        }
        return error
    }
}
