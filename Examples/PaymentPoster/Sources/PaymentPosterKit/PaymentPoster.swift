import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

/// The payment-posting job: payments go into a durable outbox and are delivered to Salesforce by
/// upsert on their reference, through the resilience pipeline.
public enum PaymentPoster {
    /// When the simulator's 503 storm starts, and how long it lasts.
    public static let stormStart = Duration.seconds(20)
    /// The storm's length: five minutes, like a Salesforce release window.
    public static let stormLength = Duration.seconds(300)

    /// Runs against the embedded simulator, or against `options.instanceURL` when set.
    ///
    /// - Parameters:
    ///   - org: an existing simulator to post to (for tests that restart the poster).
    ///   - output: receives progress lines.
    public static func run(
        _ options: PosterOptions, environment: [String: String] = ProcessInfo.processInfo.environment,
        org existing: (SalesforceSimulator, VirtualClock)? = nil, output: @escaping @Sendable (String) -> Void = { print($0) }
    ) async throws -> PosterSummary {
        try await run(options, environment: environment, org: existing, crashAfterSteps: nil, output: output)
    }

    /// A stand-in for `kill -9`, for tests: the run stops feeding the outbox after some steps.
    struct SimulatedCrash: Error {}

    /// ``run(_:environment:org:output:)`` that can stop dead after `crashAfterSteps` drain steps,
    /// leaving the journal and cursor as a killed process would, and can run the real-org mode
    /// on another clock and transport.
    static func run(
        _ options: PosterOptions, environment: [String: String], org existing: (SalesforceSimulator, VirtualClock)?,
        crashAfterSteps: Int?, runtime: PosterRuntime = PosterRuntime(), output: @escaping @Sendable (String) -> Void
    ) async throws -> PosterSummary {
        let started = ContinuousClock.now
        let counters = PosterCounters()
        let wiring = try makeWiring(options, environment: environment, existing: existing, counters: counters, runtime: runtime)
        let client = wiring.client
        let journal = URL(fileURLWithPath: options.journal ?? (wiring.org != nil
            ? FileManager.default.temporaryDirectory.appendingPathComponent("paymentposter-\(UUID().uuidString).journal").path
            : "paymentposter.journal")).path
        // The token request is every run's first call; it also names the org the journal is for.
        let identity = try await PosterLogin.identity(of: client, maxWait: options.maxWait, output: output)
        let store = try FileJournalOutboxStore(path: journal)
        // The journal is locked while open: closed on every way out, so a restart in the same
        // process (a test, a supervisor) can open it again at once.
        do {
            try await PosterJournal.bind(store, org: identity, options: options)
            let outbox = Outbox(store: store, client: client, random: RandomSource(seed: options.seed))
            let clock = client.clock
            let origin = clock.now
            output("PaymentPoster: \(options.count) payments to \(wiring.description) (org \(identity.description)); journal \(journal)")

            // One task owns time: the worker drains, and after every step the producer catches up,
            // enqueueing each payment whose arrival time (rate per second) has come. Waits inside
            // the pipeline therefore hold the worker, not the arrivals, as they would in production.
            let producer = Producer(options: options, outbox: outbox, clock: clock, journal: journal, output: output)
            let pauses = PauseWatch(client: client, maxWait: options.maxWait, progress: options.progress, output: output)
            let stormEnd = origin + stormStart + stormLength
            let drainedAfterStorm = DrainWatch()
            var stoppedEarly: String?
            if await producer.finished, try await outbox.backlog().count == 0 {
                output("Nothing left to send: journal \(journal) holds a finished job (all \(options.count) payments were enqueued by an earlier run "
                    + "and none is waiting). Checking what the org holds; use another --journal to post again.")
            } else {
                try await producer.catchUp()
                let steps = StepCounter()
                do {
                    try await outbox.drain(keepRunning: { await !producer.finished }) { step in
                        if let crashAfterSteps, await steps.increment() > crashAfterSteps { throw SimulatedCrash() }
                        try? await producer.catchUp()
                        let backlog = (try? await outbox.backlog().count) ?? 0
                        try await pauses.observe(step, backlog: backlog)
                        // The storm's backlog is cleared once at most one second of arrivals is waiting.
                        if clock.now >= stormEnd, await drainedAfterStorm.value == nil, backlog <= options.rate {
                            await drainedAfterStorm.set(clock.now - stormEnd)
                        }
                    }
                } catch let stop as WaitLimitReached {
                    stoppedEarly = "nothing delivered for \(PauseWatch.words(stop.waited)) (--max-wait): \(stop.reason)"
                    output("Stopping: \(stoppedEarly ?? ""). Every payment stays in the journal. Resume with:\n  "
                        + options.resumeCommand(journal: journal))
                }
            }

            // What the org holds, measured: the simulator's records, or SOQL queries to the real org.
            let references = (1...options.count).map(reference)
            let pending = Set(await store.pending(limit: .max).map(\.externalId))
            let letters = Set(try await store.deadLetters().map(\.entry.externalId))
            let nextPayment = await producer.nextPayment
            let enqueued = Set(references.prefix(max(0, nextPayment - 1)))
            var inOrg: [String: Int]?
            var checkedAgainst = "simulator"
            if let org = wiring.org {
                inOrg = org.countsByValue(of: options.sobject, field: options.externalIdField)
            } else {
                do {
                    inOrg = try await Reconciliation.count(references, in: client, options: options)
                    checkedAgainst = "org"
                } catch {
                    checkedAgainst = "not checked: \(error)"
                }
            }
            let tally = inOrg.map { Reconciliation(references: references, inOrg: $0, queued: pending, deadLettered: letters, enqueued: enqueued) }
            let tokenStoreError = await Self.storeTheNewestToken(client, options: options, output: output)
            let counts = counters.snapshot
            var summary = PosterSummary(
                mode: wiring.org == nil ? "org" : "simulator", payments: options.count,
                landed: tally?.landed, duplicates: tally?.duplicates, lost: tally?.lost,
                deadLettered: letters.count, stillQueued: pending.count, notYetEnqueued: options.count - enqueued.count,
                deliveredThisRun: await outbox.delivered, checkedAgainst: checkedAgainst,
                apiCalls: counts.apiCalls, retries: counts.retries, breakerOpens: counts.breakerOpens, tokenRefreshes: counts.tokenRefreshes,
                stoppedEarly: stoppedEarly, simulatedSeconds: (clock.now - origin).seconds,
                drainAfterStormSeconds: wiring.org == nil ? nil : await drainedAfterStorm.value?.seconds,
                elapsedSeconds: (ContinuousClock.now - started).seconds)
            summary.tokenStoreError = tokenStoreError
            await store.close()
            return summary
        } catch {
            await store.close()
            throw error
        }
    }

    /// Before exiting: a token the `--token-store` refused (its write failed after Salesforce
    /// rotated the refresh token) is written now, trying three times a second apart. If the store
    /// still refuses, the run says so — naming the store and what follows — rather than exit
    /// quietly with the only live refresh token.
    static func storeTheNewestToken(_ client: SalesforceClient, options: PosterOptions, output: @Sendable (String) -> Void) async -> String? {
        guard await client.tokens.hasUnstoredCredential else { return nil }
        var failure = ""
        for attempt in 1...3 {
            do {
                if try await client.tokens.storeUnstoredCredential() { return nil }
            } catch {
                failure = "\(error)"
            }
            if attempt < 3 { try? await client.clock.sleep(for: .seconds(1)) }
        }
        let store = options.tokenStore ?? "the credential store"
        let message = "the token store \(store) could not be written (\(failure)). Salesforce rotated the refresh token; the store still "
            + "holds the retired one and the newest ends with this process, so the next run (and every process using the store) will be "
            + "refused with invalid_grant: fix the store (disk space, permissions) and authorise the app again."
        output("PaymentPoster: \(message)")
        return message
    }

    /// The reference of payment `n`: `PAY-000001`.
    public static func reference(_ n: Int) -> String { String(format: "PAY-%06d", n) }

}

/// Counts drain steps.
actor StepCounter {
    private(set) var count = 0
    func increment() -> Int {
        count += 1
        return count
    }
}

/// When the backlog first emptied after the storm.
actor DrainWatch {
    private(set) var value: Duration?
    func set(_ duration: Duration) { if value == nil { value = duration } }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
