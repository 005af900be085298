import Foundation
import SalesforceResilience

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

    /// The first payment number not enqueued yet (by this run or an earlier one).
    var nextPayment: Int { next }

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
