import Foundation

/// The figures PaymentPoster ends with. Every figure is measured: what the org holds comes from
/// querying it (or the simulator's own records), what is queued from the journal. A figure that
/// could not be measured is `nil` and printed as "not checked".
public struct PosterSummary: Sendable, Codable, Equatable {
    /// `simulator` or `org`.
    public var mode: String
    /// Payments in the job.
    public var payments: Int
    /// Payments the org holds exactly once.
    public var landed: Int?
    /// Payments the org holds more than once.
    public var duplicates: Int?
    /// Payments the org does not hold although the journal no longer queues them, never
    /// dead-lettered them, and has enqueued them: gone.
    public var lost: Int?
    /// Payments given up with a permanent error (in the dead-letter file).
    public var deadLettered: Int
    /// Payments still queued in the journal.
    public var stillQueued: Int
    /// Payments of the job not enqueued yet (the run stopped before they arrived).
    public var notYetEnqueued: Int
    /// Payments this run delivered, by the journal's acknowledgements.
    public var deliveredThisRun: Int
    /// What landed/duplicates/lost were measured against: `simulator`, `org`, or
    /// `not checked: <why>`.
    public var checkedAgainst: String
    /// Requests sent, token requests and reconciliation queries included.
    public var apiCalls: Int
    /// Retries scheduled by the retry middleware.
    public var retries: Int
    /// Times a circuit breaker opened.
    public var breakerOpens: Int
    /// Token refreshes after a 401.
    public var tokenRefreshes: Int
    /// Why the run stopped before the job was done (`--max-wait`), or `nil`.
    public var stoppedEarly: String?
    /// Virtual seconds the run covered (simulator) or wall seconds (org).
    public var simulatedSeconds: Double
    /// Seconds from the end of the storm until the backlog was empty (simulator).
    public var drainAfterStormSeconds: Double?
    /// Wall-clock seconds the run took.
    public var elapsedSeconds: Double
    /// Set when the run ends holding a token that `--token-store` refused to take (Salesforce
    /// rotated the refresh token; the store still holds the retired one): what to do about it.
    public var tokenStoreError: String? = nil

    /// The process exit status: 0 when every payment is known to have landed once, 3 when
    /// `--max-wait` stopped the run with payments still queued, 1 otherwise (and always when the
    /// token store could not take the newest token).
    public var exitCode: Int32 {
        if tokenStoreError != nil { return 1 }
        let allDelivered = stillQueued == 0 && notYetEnqueued == 0 && deadLettered == 0
        let verified = landed.map { $0 == payments } ?? true
        if allDelivered, verified, (duplicates ?? 0) == 0, (lost ?? 0) == 0 { return 0 }
        return stoppedEarly != nil && stillQueued + notYetEnqueued > 0 ? 3 : 1
    }

    /// The summary as an aligned table.
    public var table: String {
        func figure(_ value: Int?) -> String { value.map(String.init) ?? "not checked" }
        let rows: [(String, String)] = [
            ("mode", mode), ("payments", "\(payments)"), ("checked against", checkedAgainst),
            ("landed", figure(landed)), ("duplicates", figure(duplicates)), ("lost", figure(lost)),
            ("dead-lettered", "\(deadLettered)"), ("still queued", "\(stillQueued)"), ("not yet enqueued", "\(notYetEnqueued)"),
            ("delivered this run", "\(deliveredThisRun)"), ("API calls", "\(apiCalls)"),
            ("retries", "\(retries)"), ("breaker opens", "\(breakerOpens)"), ("token refreshes", "\(tokenRefreshes)"),
            ("simulated time", String(format: "%.0f s", simulatedSeconds)),
            ("drain after storm", drainAfterStormSeconds.map { String(format: "%.0f s", $0) } ?? "-"),
            ("elapsed", String(format: "%.2f s", elapsedSeconds)),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        let valueWidth = max(12, rows.map(\.1.count).max() ?? 0)
        let line = "+" + String(repeating: "-", count: width + 2) + "+" + String(repeating: "-", count: valueWidth + 2) + "+"
        let body = rows.map {
            "| " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + " | " + $0.1.padding(toLength: valueWidth, withPad: " ", startingAt: 0) + " |"
        }
        return ([line] + body + [line]).joined(separator: "\n")
    }

    /// The summary as one line of JSON with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
