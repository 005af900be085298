/// The runbook's name for a failure: what kind of trouble it is and therefore what to do.
///
/// ``OutcomeClassifier`` is the only place that assigns a category; every policy reads it.
public enum FailureCategory: String, Sendable, Hashable, CaseIterable {
    /// 500, 502, 503, 504, 408 or `SERVER_UNAVAILABLE`: the server or an edge proxy is struggling.
    case transientServer
    /// 429 (whatever its body says), or OAuth's `rate_limit_exceeded`: a short wait, honouring
    /// `Retry-After`, then retry.
    case throttled
    /// 403 `REQUEST_LIMIT_EXCEEDED` that is not the daily allowance: the org's concurrent
    /// long-running request limit (`ConcurrentPerOrgLongTxn`, `ConcurrentRequests`), which clears
    /// in seconds, or a message this library does not recognise. Retried after a longer pause
    /// (``RetryPolicy/limitBackoff``), never a stop of minutes.
    case requestLimited
    /// 401 `INVALID_SESSION_ID`: the access token expired; refresh once and replay.
    case sessionExpired
    /// 403 `REQUEST_LIMIT_EXCEEDED` for the rolling 24-hour API allowance: retrying in seconds cannot help.
    case apiLimitExceeded
    /// `UNABLE_TO_LOCK_ROW`: another transaction holds the row; retry after a pause.
    case rowLockContention
    /// A code or data problem (`MALFORMED_QUERY`, `INVALID_FIELD`, validation, 404, 300…): never retried.
    case clientError
    /// OAuth refused the credentials (`invalid_grant`, `invalid_client`): a person must act.
    case authenticationFailed
    /// The request never reached the server (refused, DNS, TLS): safe to send again.
    case transientNetwork
    /// The request may have been processed (timeout or reset after sending): resend only if idempotent.
    case ambiguousNetwork
    /// A circuit breaker is open and refused the call without sending it.
    case circuitOpen
    /// The call ran out of its time budget.
    case deadlineExceeded
    /// Refused before sending by the operating mode or the API budget guard.
    case shed
    /// The calling task was cancelled.
    case cancelled
    /// Anything the classifier does not recognise; treated as a bug, not retried.
    case unknown

    /// The runbook's decision for this category.
    public var action: RunbookAction {
        switch self {
        case .transientServer, .transientNetwork, .ambiguousNetwork, .rowLockContention: .retry
        case .throttled, .requestLimited, .apiLimitExceeded: .slowDown
        case .sessionExpired, .authenticationFailed: .reauthenticate
        case .clientError, .unknown: .fixTheCode
        case .circuitOpen, .deadlineExceeded, .shed: .fallBack
        case .cancelled: .none
        }
    }

    /// Whether a retry may help, for a request that is or is not idempotent.
    ///
    /// `sessionExpired` is not retried here: the auth middleware refreshes and replays once.
    public func isRetryable(idempotent: Bool) -> Bool {
        switch self {
        case .transientServer, .throttled, .requestLimited, .rowLockContention, .transientNetwork: true
        case .ambiguousNetwork: idempotent
        default: false
        }
    }

    /// Whether the failure means Salesforce is unavailable to us for now (an outage, an open
    /// breaker, an exhausted allowance, a mode that stops traffic), so cached data may stand in.
    /// Code bugs and auth failures never qualify: stale data would hide them.
    public var allowsFallback: Bool {
        switch self {
        case .transientServer, .throttled, .requestLimited, .transientNetwork, .ambiguousNetwork, .circuitOpen, .deadlineExceeded,
             .apiLimitExceeded, .shed: true
        default: false
        }
    }

    /// Whether the failure says the server is unhealthy, and so counts toward opening a breaker.
    ///
    /// Row-lock contention, auth failures, code bugs, throttling and the org's request limits
    /// prove the server is answering. A 429 is answered by slowing down (``AdaptiveThrottle``),
    /// not by refusing every call for a break.
    public var countsAsBreakerFailure: Bool {
        switch self {
        case .transientServer, .transientNetwork, .ambiguousNetwork: true
        default: false
        }
    }
}

/// What the runbook tells an operator or a program to do about a failure.
public enum RunbookAction: String, Sendable, Hashable {
    /// Try again with backoff; it is expected to pass.
    case retry
    /// Refresh or replace the credentials.
    case reauthenticate
    /// Reduce the request rate or shed non-critical work.
    case slowDown
    /// Retrying will not help: fix the request, the query or the data.
    case fixTheCode
    /// Salesforce is unavailable for now: serve cached data or queue the writes.
    case fallBack
    /// Nothing to do (the caller cancelled).
    case none
}
