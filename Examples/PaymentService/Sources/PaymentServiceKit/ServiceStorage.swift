import Foundation
import Synchronization
import Logging
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResiliencePubSub

/// Where the service keeps its outbox, its job's progress and, in a fleet, its token and the
/// settings every worker follows: a file journal for one process, or PostgreSQL for many.
struct ServiceStorage: Sendable {
    let store: any OutboxStore
    let ledger: any JobLedger
    /// The fleet's token store; `nil`: the process keeps its token to itself.
    let credentialStore: (any CredentialStore)?
    /// The fleet's mode and breaker openings; `nil` without PostgreSQL.
    let fleet: PostgresFleet?
    let description: String
    private let journal: FileJournalOutboxStore?
    private let postgres: PostgresOutboxStore?
    private let database: FleetDatabase?
    private let pool: Task<Void, Never>?

    /// Opens the journal, or connects to PostgreSQL and migrates its schema.
    static func open(options: ServiceOptions, logger: Logger) async throws -> ServiceStorage {
        guard let url = options.postgresURL else {
            let journal = try FileJournalOutboxStore(path: options.journal)
            return ServiceStorage(store: journal, ledger: JournalLedger(store: journal), credentialStore: nil, fleet: nil,
                                  description: "journal \(options.journal)", journal: journal, postgres: nil, database: nil, pool: nil)
        }
        var database = try FleetDatabase(url: url, logger: logger)
        // A store operation that outlasts a batch is the store's fault: it fails and is retried,
        // and a shutdown never waits longer than a batch for the database.
        database.queryTimeout = min(.seconds(10), options.batchTimeout)
        let pool = Task { await database.client.run() }
        do {
            try await database.migrate()
        } catch {
            pool.cancel()
            throw error
        }
        let worker = PostgresOutboxStore.defaultWorkerName
        let store = PostgresOutboxStore(database: database, worker: worker)
        return ServiceStorage(store: store, ledger: PostgresLedger(store: store, job: options.job),
                              credentialStore: PostgresCredentialStore(database: database), fleet: PostgresFleet(database: database, worker: worker),
                              description: "PostgreSQL \(FleetDatabase.redacted(url)), job \(options.job)", journal: nil, postgres: store, database: database, pool: pool)
    }

    /// Where the `events` command keeps each topic's last replay id: beside the outbox in
    /// PostgreSQL, or in `options.replayFile`.
    func replayStore(_ options: EventOptions) -> any ReplayStore {
        if let database { return PostgresReplayStore(database: database) }
        return FileReplayStore(path: options.replayFile)
    }

    /// Payments given up with a permanent error.
    func deadLetterCount() async throws -> Int {
        if let journal { return try await journal.deadLetters().count }
        if let postgres { return try await postgres.deadLetters().count }
        return 0
    }

    /// Closes the journal and stops the pool, waiting at most 2 s for the pool's connections to
    /// close (a frozen server never answers their goodbye).
    func close() async {
        await journal?.close()
        guard let pool else { return }
        pool.cancel()
        let closed = Mutex(false)
        Task {
            await pool.value
            closed.withLock { $0 = true }
        }
        for _ in 0..<20 where !closed.withLock({ $0 }) {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
