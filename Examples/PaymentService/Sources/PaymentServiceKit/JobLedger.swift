import Foundation
import SalesforceResilience
import SalesforceResiliencePostgres

/// How far the job's payments have been enqueued, kept where the outbox is, so that a restarted
/// service — or, with PostgreSQL, every service of a fleet — enqueues each payment once.
protocol JobLedger: Sendable {
    /// How many of the job's payments are enqueued.
    func produced() async throws -> Int
    /// Enqueues `entries`, payments `items` of the job, only if the job is still at
    /// `items.lowerBound - 1`; `false` (and nothing written) if another producer moved it.
    func enqueue(_ entries: [OutboxEntry], items: ClosedRange<Int>) async throws -> Bool
}

/// The file journal's ledger: a `job.enqueued` label in the journal, written after the entries
/// (a crash between the two enqueues the same references again, which is harmless). One
/// process owns the journal, so no other producer can move it.
struct JournalLedger: JobLedger {
    let store: FileJournalOutboxStore

    func produced() async throws -> Int {
        await store.metadata["job.enqueued"].flatMap(Int.init) ?? 0
    }

    func enqueue(_ entries: [OutboxEntry], items: ClosedRange<Int>) async throws -> Bool {
        try await store.enqueue(entries)
        try await store.setMetadata(["job.enqueued": String(items.upperBound)])
        return true
    }
}

/// The fleet's ledger: a sequence row in PostgreSQL moved in the transaction that enqueues.
struct PostgresLedger: JobLedger {
    let store: PostgresOutboxStore
    let job: String

    func produced() async throws -> Int {
        try await store.produced(of: job)
    }

    func enqueue(_ entries: [OutboxEntry], items: ClosedRange<Int>) async throws -> Bool {
        try await store.enqueue(entries, producing: items, of: job)
    }
}
