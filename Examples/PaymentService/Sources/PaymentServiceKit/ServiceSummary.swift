import Foundation

/// What PaymentService prints when it stops. Counts come from the journal and the events; what
/// the org holds is counted only for the embedded simulator, whose records the service can see.
public struct ServiceSummary: Sendable, Codable, Equatable {
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

    /// The summary as one line of JSON with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
