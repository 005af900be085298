import Foundation
import SalesforceResilience

/// The run stopped because it delivered nothing for longer than `--max-wait`.
struct WaitLimitReached: Error {
    /// What it was waiting for.
    var reason: String
    /// How long nothing had been delivered.
    var waited: Duration
}

/// Says, in the progress output, why draining pauses and until when; and ends the run when it
/// has delivered nothing for longer than `--max-wait`.
actor PauseWatch {
    private let client: SalesforceClient
    private let maxWait: Duration?
    private let progress: Bool
    private let output: @Sendable (String) -> Void
    private let origin: ResilienceInstant
    private var lastProgress: ResilienceInstant
    private var lastLine: (reason: FailureCategory, at: ResilienceInstant)?
    private var pausedSince: ResilienceInstant?

    init(client: SalesforceClient, maxWait: Duration?, progress: Bool, output: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.maxWait = maxWait
        self.progress = progress
        self.output = output
        origin = client.clock.now
        lastProgress = origin
    }

    /// Looks at one drain step. Throws ``WaitLimitReached`` when the wait ahead would take the
    /// time without a delivery past `--max-wait`.
    func observe(_ step: DrainStep, backlog: Int) throws {
        let now = client.clock.now
        var ahead = Duration.zero
        switch step {
        case .idle:
            lastProgress = now
        case .sent(let delivered, _, _):
            if delivered > 0 {
                lastProgress = now
                if let since = pausedSince {
                    say(now, "resumed: delivering again after \(Self.words(now - since))")
                    pausedSince = nil
                    lastLine = nil
                }
            }
        case .lingering(let duration):
            ahead = duration
        case .paused(let reason, let duration):
            ahead = duration
            pausedSince = pausedSince ?? now
            // One line when a pause starts or its reason changes, then at most one a minute.
            if lastLine?.reason != reason || now - (lastLine?.at ?? now) >= .seconds(60) {
                let until = client.clock.wallClockNow.addingTimeInterval(duration.seconds)
                say(now, "paused: \(explain(reason)); next attempt at \(until.formatted(.iso8601)) (in \(Self.words(duration))); "
                    + "\(backlog) payments wait in the journal")
                lastLine = (reason, now)
            }
        }
        if let maxWait, backlog > 0, now + ahead - lastProgress > maxWait {
            let reason = if case .paused(let reason, _) = step { explain(reason) } else { "failures that keep being retried" }
            throw WaitLimitReached(reason: reason, waited: now - lastProgress)
        }
    }

    private func explain(_ reason: FailureCategory) -> String {
        switch reason {
        case .apiLimitExceeded:
            let usage = client.apiUsage.map { " (api-usage \($0.used)/\($0.max))" } ?? ""
            return "the org's daily API limit is exhausted\(usage); it is a rolling 24-hour window, so calls free up as older ones age out"
        case .circuitOpen:
            let hosts = client.breakers.all.filter { $0.value.nextProbeAt != nil }.keys.sorted().joined(separator: ", ")
            return "Salesforce keeps failing, so the circuit breaker for \(hosts.isEmpty ? "the org" : hosts) is open"
        case .shed:
            return "the operating mode is \(client.mode.rawValue)"
        default:
            return reason.rawValue
        }
    }

    private func say(_ now: ResilienceInstant, _ text: String) {
        guard progress else { return }
        output(String(format: "[t=%5.0fs] ", (now - origin).seconds) + text)
    }

    /// `45 s`, `15 min`, `2 h 5 min`.
    static func words(_ duration: Duration) -> String {
        let seconds = Int64(duration.seconds.rounded(.up))
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7_200 { return "\((seconds + 30) / 60) min" }
        return "\(seconds / 3_600) h \((seconds % 3_600) / 60) min"
    }
}
