#if Observability // the package trait that brings this module's dependencies
import Logging
import SalesforceResilience

extension ResilienceEventSink {
    /// Writes every ``ResilienceEvent`` to `logger` at a library's levels: per-attempt and
    /// per-call detail at `debug`, state changes (breaker, mode, token, API usage, outbox) at
    /// `info`; `warning` and above are left to the application. Lines carry operation names,
    /// categories, error codes and durations as metadata: never a token, a record's fields, an
    /// external id or a query's text.
    ///
    /// ```swift
    /// let client = try SalesforceClient(configuration: configuration, tokenProvider: provider,
    ///                                   events: .logging(to: Logger(label: "payments.salesforce")))
    /// ```
    public static func logging(to logger: Logger) -> ResilienceEventSink {
        ResilienceEventSink { event in
            let (level, message, metadata) = LogLine.describe(event)
            logger.log(level: level, "\(message)", metadata: metadata)
        }
    }
}

/// How each event reads in a log.
enum LogLine {
    static func describe(_ event: ResilienceEvent) -> (Logger.Level, String, Logger.Metadata) {
        switch event {
        case .attemptStarted(let operation, let attempt):
            return (.debug, "salesforce attempt", ["operation": "\(operation)", "attempt": "\(attempt)"])
        case .retryScheduled(let operation, let attempt, let delay, let reason, let status):
            var metadata: Logger.Metadata = ["operation": "\(operation)", "attempt": "\(attempt)", "delay_ms": "\(milliseconds(delay))",
                                             "reason": "\(reason.rawValue)"]
            if let status { metadata["status"] = "\(status)" }
            return (.debug, "salesforce retry scheduled", metadata)
        case .callCompleted(let operation, let outcome, let errorCode, let duration):
            var metadata: Logger.Metadata = ["operation": "\(operation)", "outcome": "\(outcome?.rawValue ?? "success")",
                                             "duration_ms": "\(milliseconds(duration))"]
            if let errorCode { metadata["error_code"] = "\(errorCode)" }
            return (.debug, "salesforce call completed", metadata)
        case .retriesExhausted(let operation, let attempts, let reason, let limit):
            return (.debug, "salesforce retries exhausted",
                    ["operation": "\(operation)", "attempts": "\(attempts)", "reason": "\(reason.rawValue)", "limit": "\(limit.rawValue)"])
        case .budgetExhausted(let operation, let reason):
            return (.info, "salesforce retry budget exhausted", ["operation": "\(operation)", "reason": "\(reason.rawValue)"])
        case .breakerStateChanged(let key, let from, let to):
            return (.info, "salesforce circuit breaker \(to.rawValue)", ["host": "\(key)", "from": "\(from.rawValue)", "to": "\(to.rawValue)"])
        case .breakerRejected(let key, let operation):
            return (.debug, "salesforce call refused by an open breaker", ["host": "\(key)", "operation": "\(operation)"])
        case .tokenRefreshStarted:
            return (.info, "salesforce token refresh", [:])
        case .tokenRefreshFailed(let reason):
            return (.info, "salesforce token refresh failed", ["reason": "\(reason.rawValue)"])
        case .tokenAdopted(let revision):
            return (.debug, "salesforce token taken from the shared credential store", ["revision": "\(revision)"])
        case .credentialNotStored(let reason):
            return (.warning, "salesforce token kept in memory: the credential store refused the write; retrying", ["reason": "\(reason)"])
        case .credentialStored(let revision):
            return (.info, "salesforce token kept in memory is now in the credential store", ["revision": "\(revision)"])
        case .fallbackServed(_, let age, let reason):
            // The key is the query text, which may hold record values: left out.
            return (.info, "salesforce cached result served", ["age_s": "\(Int64(age.components.seconds))", "reason": "\(reason.rawValue)"])
        case .modeChanged(let from, let to):
            return (.info, "salesforce operating mode \(to.rawValue)", ["from": "\(from.rawValue)", "to": "\(to.rawValue)"])
        case .apiUsageThresholdCrossed(let threshold, let fraction, let rising):
            return (.info, "salesforce API usage \(rising ? "above" : "below") \(Int(threshold * 100)) %",
                    ["threshold": "\(threshold)", "usage": "\(fraction)"])
        case .deadLettered(let key, let reason):
            // The key ends with the external id and the reason may quote field values: only the
            // object and the error codes are logged; the dead-letter file has the rest.
            return (.info, "salesforce record dead-lettered", ["sobject": "\(key.split(separator: "/").first ?? "")", "error_codes": "\(errorCodes(in: reason))"])
        case .outboxPaused(let reason, let duration):
            return (.info, "salesforce outbox paused", ["reason": "\(reason.rawValue)", "duration_ms": "\(milliseconds(duration))"])
        case .bulkJobStateChanged(let jobID, let state, let processed, let failed):
            return (.info, "salesforce bulk job \(state.rawValue)", ["job": "\(jobID)", "processed": "\(processed)", "failed": "\(failed)"])
        case .outboxBulkSuspended(let reason, let duration):
            return (.warning, "salesforce outbox back on collections after a bulk job failed", ["reason": "\(reason)", "duration_ms": "\(milliseconds(duration))"])
        case .sendRateChanged(let rate):
            return (.info, rate == nil ? "salesforce send rate limit lifted" : "salesforce send rate lowered",
                    ["requests_per_second": "\(rate.map { String(format: "%.1f", $0) } ?? "unlimited")"])
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// `CODE: message; CODE2: message` → `CODE,CODE2`.
    static func errorCodes(in reason: String) -> String {
        reason.split(separator: ";").compactMap { part in
            let code = part.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) ?? ""
            return !code.isEmpty && code.allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber }) ? code : nil
        }.joined(separator: ",")
    }
}
#endif
