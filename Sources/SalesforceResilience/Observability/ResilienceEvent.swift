/// Something the resilience layer did or saw, for logs and metrics.
///
/// Events never contain tokens or request bodies.
public enum ResilienceEvent: Sendable, Hashable {
    /// An attempt is about to be sent.
    case attemptStarted(operation: String, attempt: Int)
    /// A failed attempt will be retried after `delay`.
    case retryScheduled(operation: String, attempt: Int, delay: Duration, reason: FailureCategory, status: Int?)
    /// A call finished, after its retries: `outcome` is `nil` for success, else the failure's
    /// category; `errorCode` is Salesforce's, when there was one. Not emitted for cancelled calls.
    case callCompleted(operation: String, outcome: FailureCategory?, errorCode: String?, duration: Duration)
    /// The call failed and will not be retried: attempts, deadline or the failure's category.
    case retriesExhausted(operation: String, attempts: Int, reason: FailureCategory, limit: RetryStopReason)
    /// The retry budget had no tokens left, so a retryable failure was not retried.
    case budgetExhausted(operation: String, reason: FailureCategory)
    /// A circuit breaker changed state.
    case breakerStateChanged(key: String, from: CircuitState, to: CircuitState)
    /// A call was refused because the breaker for `key` is open.
    case breakerRejected(key: String, operation: String)
    /// A token refresh started after a 401: a request to the token endpoint (one per group of
    /// concurrent callers, and one per expiry for every process sharing a credential store).
    case tokenRefreshStarted
    /// A token another holder of the shared ``CredentialStore`` had already fetched was taken
    /// (at `revision`) instead of asking the token endpoint.
    case tokenAdopted(revision: UInt64)
    /// Fetching a token failed; every waiting caller gets the error.
    case tokenRefreshFailed(reason: FailureCategory)
    /// A token just issued (with, under Refresh Token Rotation, the only refresh token that still
    /// works) could not be written to the shared ``CredentialStore``. It is kept in memory, used,
    /// and written again with backoff until the store takes it; `reason` names the store's error.
    case credentialNotStored(reason: String)
    /// A token kept in memory after ``credentialNotStored(reason:)`` reached the store, at `revision`.
    case credentialStored(revision: UInt64)
    /// A cached result was served instead of a live one.
    case fallbackServed(key: String, age: Duration, reason: FailureCategory)
    /// The operator changed the operating mode.
    case modeChanged(from: OperatingMode, to: OperatingMode)
    /// API usage crossed a threshold, rising or falling (the shed threshold's crossing starts
    /// or stops shedding).
    case apiUsageThresholdCrossed(threshold: Double, fraction: Double, rising: Bool)
    /// An outbox entry was given up and written to the dead letters.
    case deadLettered(key: String, reason: String)
    /// The outbox stopped draining for a while instead of spending calls.
    case outboxPaused(reason: FailureCategory, duration: Duration)
    /// A Bulk API job changed state (as seen by polling, or aborted by this client).
    case bulkJobStateChanged(jobID: String, state: BulkJobState, processed: Int, failed: Int)
    /// An outbox's Bulk API hand-off stopped for `duration` after a job failed, was refused or
    /// passed its time limit; its backlog goes by collections meanwhile (``BulkHandOff``).
    case outboxBulkSuspended(reason: String, duration: Duration)
    /// The client's own send rate changed after Salesforce throttled it: lowered to this many
    /// requests per second, or lifted (`nil`) after a quiet spell. See ``AdaptiveThrottle``.
    case sendRateChanged(requestsPerSecond: Double?)
}

/// Why the retry middleware stopped retrying a retryable failure.
public enum RetryStopReason: String, Sendable, Hashable {
    /// ``RetryPolicy/maxAttempts`` was reached.
    case maxAttempts
    /// The next attempt could not start before the call's deadline.
    case deadline
}

/// Receives ``ResilienceEvent``s; bridge it to your logging or metrics system.
///
/// ```swift
/// let sink = ResilienceEventSink { event in logger.info("\(event)") }
/// ```
/// The closure is called synchronously on the task that produced the event: keep it cheap.
public struct ResilienceEventSink: Sendable {
    private let receive: @Sendable (ResilienceEvent) -> Void

    /// Creates a sink from a closure.
    public init(_ receive: @escaping @Sendable (ResilienceEvent) -> Void) {
        self.receive = receive
    }

    /// Delivers `event`.
    public func emit(_ event: ResilienceEvent) { receive(event) }

    /// A sink that drops every event.
    public static let none = ResilienceEventSink { _ in }

    /// A sink that hands every event to each of `sinks`, in order.
    public static func combining(_ sinks: [ResilienceEventSink]) -> ResilienceEventSink {
        ResilienceEventSink { event in for sink in sinks { sink.emit(event) } }
    }
}
