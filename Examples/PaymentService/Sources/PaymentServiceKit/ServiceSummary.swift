import Foundation

/// What PaymentService prints when it stops. Counts come from the journal and the events; what
/// the org holds is counted only for the embedded simulator, whose records the service can see.
public struct ServiceSummary: SummaryLine, Sendable, Codable, Equatable {
    /// Payments in the job.
    public var payments: Int
    /// Payments delivered by this run (the journal's acknowledgements).
    public var deliveredThisRun: Int
    /// Payments still queued in the journal; `nil` when the store could not be read at the end
    /// (PostgreSQL unreachable): the service does not guess.
    public var stillQueued: Int?
    /// Payments not enqueued yet (the run stopped before they arrived); `nil` as above.
    public var notYetEnqueued: Int?
    /// Payments given up with a permanent error; `nil` as above.
    public var deadLettered: Int?
    /// Payments the embedded simulator holds exactly once; `nil` against a real org.
    public var landed: Int?
    /// Payments the embedded simulator holds more than once; `nil` against a real org.
    public var duplicates: Int?
    /// Requests sent, token requests included.
    public var apiCalls: Int
    /// Retries scheduled.
    public var retries: Int
    /// Times a circuit breaker opened.
    public var breakerOpens: Int
    /// `signal` (SIGTERM or SIGINT) or `done` (every payment delivered).
    public var stoppedBy: String
    /// Seconds the service ran.
    public var elapsedSeconds: Double
}

/// What `PaymentService events` prints when it stops. What the org holds is counted only for
/// the embedded simulator; the stored replay id is read back from the replay store.
public struct EventsSummary: SummaryLine, Sendable, Codable, Equatable {
    /// The topic.
    public var topic: String
    /// Requests the embedded bus published; `nil` against a real org.
    public var published: Int?
    /// Events worked by this run (a redelivered event counts again).
    public var handledThisRun: Int
    /// Redelivered events skipped because they were already handled.
    public var duplicatesSkipped: Int
    /// Streams opened again after a failure, a close or a silence.
    public var resubscribes: Int
    /// Streams rebuilt because they were silent.
    public var silentStreamsRebuilt: Int
    /// Results delivered by this run.
    public var resultsDeliveredThisRun: Int
    /// Results still queued; `nil` when the store could not be read at the end.
    public var stillQueued: Int?
    /// Results given up with a permanent error; `nil` as above.
    public var deadLettered: Int?
    /// Distinct events with a result in the embedded org; `nil` against a real org.
    public var resultsInOrg: Int?
    /// Events with more than one result record in the embedded org; `nil` against a real org.
    public var duplicates: Int?
    /// The stored replay id, in hex; `nil` when none is stored or the store did not answer.
    public var storedReplayID: String?
    /// Requests sent to the org, token requests included.
    public var apiCalls: Int
    /// `signal` (SIGTERM or SIGINT) or `done` (the embedded bus's every request worked and its
    /// result delivered).
    public var stoppedBy: String
    /// Seconds the service ran.
    public var elapsedSeconds: Double
}

/// A summary printed as one line of JSON when the service stops.
public protocol SummaryLine: Encodable {}

extension SummaryLine {
    /// The summary as one line of JSON with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
