import SalesforceResilience

/// The run's first call, the login, waits out an outage instead of ending the run: a release's
/// 503 storm at the token endpoint is as passing as one at the data API.
enum PosterLogin {
    /// The wait between login attempts: 1 s doubling to 30 s.
    static let backoff = Backoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(30), jitter: .none)

    /// Who the org is, asking until the token endpoint answers.
    ///
    /// A failure a retry can fix (5xx, throttling, the network, a timeout, a busy token store)
    /// is retried with ``backoff``, said once in the output, and again when it clears; anything
    /// else (the app's credentials refused, a token response that is not one) ends the run at
    /// once. With `maxWait`, a login that has not succeeded by then ends the run with
    /// ``PosterLoginTimeout``: nothing was enqueued, so nothing is lost.
    static func identity(of client: SalesforceClient, maxWait: Duration?, output: @Sendable (String) -> Void) async throws -> OrgIdentity {
        let clock = client.clock
        let started = clock.now
        var failures = 0
        while true {
            let failure: any Error
            do {
                let identity = try await OrgIdentity.of(client)
                if failures > 0 { output("Login recovered after \(failures) failed attempts (\(PauseWatch.words(clock.now - started))).") }
                return identity
            } catch {
                failure = error
            }
            guard canWaitOut(failure) else { throw failure }
            failures += 1
            let waited = clock.now - started
            if let maxWait, waited >= maxWait { throw PosterLoginTimeout(waited: waited, lastError: "\(failure)") }
            var delay = backoff.delay(forRetry: failures, unit: 0)
            if let maxWait { delay = min(delay, maxWait - waited) }
            if failures == 1 {
                output("Login failed (\(failure)); retrying every \(PauseWatch.words(backoff.initial)) to \(PauseWatch.words(backoff.maximum))"
                    + (maxWait.map { " for up to \(PauseWatch.words($0)) (--max-wait)" } ?? "") + ". No payment is sent before it succeeds.")
            }
            try await clock.sleep(until: clock.now + delay)
        }
    }

    /// Whether waiting can fix `error`.
    static func canWaitOut(_ error: any Error) -> Bool {
        let category = FailureCategory(of: error)
        return category.isRetryable(idempotent: true) || category == .deadlineExceeded
    }
}

/// The login did not succeed within `--max-wait`. Nothing was enqueued or sent.
public struct PosterLoginTimeout: Error, CustomStringConvertible {
    /// How long the run tried.
    public var waited: Duration
    /// The last attempt's failure.
    public var lastError: String

    /// What happened and what to do.
    public var description: String {
        "the login did not succeed for \(PauseWatch.words(waited)) (--max-wait): \(lastError). Nothing was enqueued; run the same command again."
    }
}
