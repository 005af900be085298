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
    /// leaving the journal and cursor as a killed process would.
    static func run(
        _ options: PosterOptions, environment: [String: String], org existing: (SalesforceSimulator, VirtualClock)?,
        crashAfterSteps: Int?, output: @escaping @Sendable (String) -> Void
    ) async throws -> PosterSummary {
        let started = ContinuousClock.now
        let counters = PosterCounters()
        let wiring = try makeWiring(options, environment: environment, existing: existing, counters: counters)
        let journal = options.journal ?? (wiring.org != nil
            ? FileManager.default.temporaryDirectory.appendingPathComponent("paymentposter-\(UUID().uuidString).journal").path
            : "paymentposter.journal")
        let outbox = Outbox(store: try FileJournalOutboxStore(path: journal), client: wiring.client, random: RandomSource(seed: options.seed))
        let clock = wiring.client.clock
        let origin = clock.now
        output("PaymentPoster: \(options.count) payments to \(wiring.description); journal \(journal)")

        // One task owns time: the worker drains, and after every step the producer catches up,
        // enqueueing each payment whose arrival time (rate per second) has come. Waits inside
        // the pipeline therefore hold the worker, not the arrivals, as they would in production.
        let producer = Producer(options: options, outbox: outbox, clock: clock, journal: journal, output: output)
        let stormEnd = origin + stormStart + stormLength
        let drainedAfterStorm = DrainWatch()
        try await producer.catchUp()
        let steps = StepCounter()
        try await outbox.drain(keepRunning: { await !producer.finished }) { step in
            if let crashAfterSteps, await steps.increment() > crashAfterSteps { throw SimulatedCrash() }
            try? await producer.catchUp()
            // The storm's backlog is cleared once at most one second of arrivals is waiting.
            if clock.now >= stormEnd, await drainedAfterStorm.value == nil, (try? await outbox.backlog().count) ?? .max <= options.rate {
                await drainedAfterStorm.set(clock.now - stormEnd)
            }
        }
        let counts = counters.snapshot
        let references = (1...options.count).map(reference)
        let queued = try await outbox.backlog().count
        var summary = PosterSummary(
            mode: wiring.org == nil ? "org" : "simulator", payments: options.count, landed: 0, duplicates: nil, lost: 0,
            deadLettered: counts.deadLettered, stillQueued: queued, apiCalls: counts.apiCalls, retries: counts.retries,
            breakerOpens: counts.breakerOpens, tokenRefreshes: counts.tokenRefreshes,
            simulatedSeconds: (clock.now - origin).seconds, drainAfterStormSeconds: wiring.org == nil ? nil : await drainedAfterStorm.value?.seconds,
            elapsedSeconds: (ContinuousClock.now - started).seconds)
        if let org = wiring.org {
            let stored = org.countsByValue(of: options.sobject, field: options.externalIdField)
            summary.landed = references.filter { stored[$0] == 1 }.count
            summary.duplicates = references.filter { (stored[$0] ?? 0) > 1 }.count
            let letters = Set(try await deadLetters(journal).map(\.entry.externalId))
            summary.deadLettered = letters.count
            summary.lost = references.filter { stored[$0] == nil && !letters.contains($0) }.count - queued
        } else {
            summary.landed = await outbox.delivered
            summary.lost = 0
        }
        return summary
    }

    /// The reference of payment `n`: `PAY-000001`.
    public static func reference(_ n: Int) -> String { String(format: "PAY-%06d", n) }

    static func deadLetters(_ journal: String) async throws -> [DeadLetter] {
        try await FileJournalOutboxStore(path: journal).deadLetters()
    }
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

/// Enqueues payments as they "arrive", `rate` per second from the start of the run, resuming
/// after the last batch an earlier run enqueued (the cursor file beside the journal).
actor Producer {
    let options: PosterOptions
    let outbox: Outbox
    let clock: any ResilienceClock
    let cursorPath: String
    let output: @Sendable (String) -> Void
    private let origin: ResilienceInstant
    private let firstIndex: Int
    private var next: Int
    private var reported = 0

    init(options: PosterOptions, outbox: Outbox, clock: any ResilienceClock, journal: String, output: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.outbox = outbox
        self.clock = clock
        self.cursorPath = journal + ".cursor"
        self.output = output
        origin = clock.now
        next = (try? String(contentsOfFile: journal + ".cursor", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 1
        firstIndex = next
    }

    var finished: Bool { next > options.count }

    /// Enqueues, in one durable write, every payment whose arrival time has come.
    func catchUp() async throws {
        let elapsed = clock.now - origin
        let due = firstIndex + Int(elapsed / .seconds(1)) * options.rate + options.rate - 1
        let last = min(options.count, due)
        guard last >= next else { return }
        let entries = (next...last).map { n in
            OutboxEntry(sobject: options.sobject, externalIdField: options.externalIdField, externalId: PaymentPoster.reference(n),
                        fields: ["Amount__c": .number(Double(n % 900) + 10.5), "Customer__c": .string("CUST-\(n % 97)")],
                        enqueuedAt: clock.wallClockNow)
        }
        try await outbox.enqueue(entries)
        // After the journal has them: a crash between the two re-enqueues the same keys, harmlessly.
        try String(last + 1).write(toFile: cursorPath, atomically: true, encoding: .utf8)
        next = last + 1
        if options.progress, last * 10 / options.count > reported {
            reported = last * 10 / options.count
            let delivered = await outbox.delivered
            let backlog = (try? await outbox.backlog().count) ?? 0
            output(String(format: "[t=%5.0fs] enqueued %d/%d  delivered %d  backlog %d", elapsed.seconds, last, options.count, delivered, backlog))
        }
    }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
