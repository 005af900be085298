import Foundation
import SalesforceResilience

/// The job's payments, arriving `rate` per second from the service's start, enqueued durably in
/// the outbox. How far an earlier run got is kept in the journal itself (`job.enqueued`), after
/// the entries: a crash between the two enqueues the same references again, which is harmless.
actor PaymentSource {
    private let options: ServiceOptions
    private let store: FileJournalOutboxStore
    private let clock: any ResilienceClock
    private let origin: ResilienceInstant
    private let first: Int
    private(set) var next: Int

    init(options: ServiceOptions, store: FileJournalOutboxStore, clock: any ResilienceClock) async {
        self.options = options
        self.store = store
        self.clock = clock
        origin = clock.now
        next = await store.metadata["job.enqueued"].flatMap(Int.init).map { $0 + 1 } ?? 1
        first = next
    }

    /// Whether every payment of the job has been enqueued.
    var exhausted: Bool { next > options.count }

    /// Enqueues, in one durable write, every payment whose arrival time has come.
    func catchUp() async throws {
        let due = first + Int((clock.now - origin) / .seconds(1)) * options.rate + options.rate - 1
        let last = min(options.count, due)
        guard last >= next else { return }
        let entries = (next...last).map { n in
            OutboxEntry(sobject: options.sobject, externalIdField: options.externalIdField, externalId: ServiceOptions.reference(n),
                        fields: ["Amount__c": .number(Double(n % 900) + 10.5), "Customer__c": .string("CUST-\(n % 97)")],
                        enqueuedAt: clock.wallClockNow)
        }
        try await store.enqueue(entries)
        try await store.setMetadata(["job.enqueued": String(last)])
        next = last + 1
    }
}
