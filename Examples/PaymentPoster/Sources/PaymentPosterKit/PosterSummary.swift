import Foundation

/// The figures PaymentPoster ends with.
public struct PosterSummary: Sendable, Codable, Equatable {
    /// `simulator` or `org`.
    public var mode: String
    /// Payments asked for.
    public var payments: Int
    /// Payments present in Salesforce exactly once (simulator), or delivered by this run (org).
    public var landed: Int
    /// Payments present more than once; `nil` when not checked (real org).
    public var duplicates: Int?
    /// Payments neither landed nor dead-lettered, nor still queued.
    public var lost: Int
    /// Payments given up with a permanent error.
    public var deadLettered: Int
    /// Payments still queued in the journal (a run that was stopped).
    public var stillQueued: Int
    /// Requests sent, token requests included.
    public var apiCalls: Int
    /// Retries scheduled by the retry middleware.
    public var retries: Int
    /// Times a circuit breaker opened.
    public var breakerOpens: Int
    /// Token refreshes after a 401.
    public var tokenRefreshes: Int
    /// Virtual seconds the run covered (simulator) or wall seconds (org).
    public var simulatedSeconds: Double
    /// Seconds from the end of the storm until the backlog was empty (simulator).
    public var drainAfterStormSeconds: Double?
    /// Wall-clock seconds the run took.
    public var elapsedSeconds: Double

    /// The summary as an aligned table.
    public var table: String {
        let rows: [(String, String)] = [
            ("mode", mode), ("payments", "\(payments)"), ("landed", "\(landed)"),
            ("duplicates", duplicates.map(String.init) ?? "not checked"), ("lost", "\(lost)"),
            ("dead-lettered", "\(deadLettered)"), ("still queued", "\(stillQueued)"), ("API calls", "\(apiCalls)"),
            ("retries", "\(retries)"), ("breaker opens", "\(breakerOpens)"), ("token refreshes", "\(tokenRefreshes)"),
            ("simulated time", String(format: "%.0f s", simulatedSeconds)),
            ("drain after storm", drainAfterStormSeconds.map { String(format: "%.0f s", $0) } ?? "-"),
            ("elapsed", String(format: "%.2f s", elapsedSeconds)),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        let line = "+" + String(repeating: "-", count: width + 2) + "+" + String(repeating: "-", count: 14) + "+"
        return ([line] + rows.map { "| " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + " | " + $0.1.padding(toLength: 12, withPad: " ", startingAt: 0) + " |" } + [line])
            .joined(separator: "\n")
    }

    /// The summary as one line of JSON with sorted keys.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}
