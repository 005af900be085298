import Foundation
import SalesforceResilience

/// Where an ``OutboxWorker``'s work comes from: the job's payments, or the results of events.
protocol WorkSource: Sendable {
    /// Enqueues whatever is due now.
    func catchUp() async throws
    /// Whether no more work will come (the job is all enqueued), for `--exit-when-done`.
    func isExhausted() async throws -> Bool
    /// What one item is called in the log.
    var itemName: String { get }
}

/// The job's payments, arriving `rate` per second from the service's start, enqueued durably in
/// the outbox through a ``JobLedger``: after a restart the job goes on where it was, and the
/// services of a fleet enqueue each payment once between them.
actor PaymentSource: WorkSource {
    private let options: ServiceOptions
    private let ledger: any JobLedger
    private let clock: any ResilienceClock
    private let origin: ResilienceInstant
    private let first: Int
    private(set) var next: Int

    init(options: ServiceOptions, ledger: any JobLedger, clock: any ResilienceClock) async throws {
        self.options = options
        self.ledger = ledger
        self.clock = clock
        origin = clock.now
        next = try await ledger.produced() + 1
        first = next
    }

    /// Whether every payment of the job has been enqueued (by this service or another).
    var exhausted: Bool { next > options.count }

    /// Enqueues, in one durable write, every payment whose arrival time has come. When another
    /// service of the fleet got there first, takes up where it is instead.
    func catchUp() async throws {
        let due = first + Int((clock.now - origin) / .seconds(1)) * options.rate + options.rate - 1
        let last = min(options.count, due)
        guard last >= next else { return }
        let entries = (next...last).map { n in
            OutboxEntry(sobject: options.sobject, externalIdField: options.externalIdField, externalId: ServiceOptions.reference(n),
                        fields: ["Amount__c": .number(Double(n % 900) + 10.5), "Customer__c": .string("CUST-\(n % 97)")],
                        enqueuedAt: clock.wallClockNow)
        }
        if try await ledger.enqueue(entries, items: next...last) {
            next = last + 1
        } else {
            next = try await ledger.produced() + 1
        }
    }

    /// Whether every payment is enqueued, taking up other services' progress first.
    func isExhausted() async throws -> Bool {
        try await takeUpProgress()
        return exhausted
    }

    nonisolated var itemName: String { "payment" }

    /// Takes up what other producers of the job have enqueued meanwhile.
    func takeUpProgress() async throws {
        next = max(next, try await ledger.produced() + 1)
    }

    /// How many payments are enqueued, by every producer of the job.
    func produced() async throws -> Int { try await ledger.produced() }
}
