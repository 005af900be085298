#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import PostgresNIO
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Testing

/// The store contract, run against the three stores alike, and what only the shared store
/// promises: claims across pools, producers that enqueue a job once between them, dead letters
/// with their reasons, and a migrated schema.
@Suite struct PostgresOutboxStoreTests {
    enum Kind: String, CaseIterable, Sendable { case memory, file, postgres }

    @Test(arguments: Kind.allCases, OutboxStoreConformance.checks)
    func everyStoreKeepsTheContract(_ kind: Kind, _ check: OutboxStoreConformance.Check) async throws {
        switch kind {
        case .memory:
            try await check.run { clock in InMemoryOutboxStore(clock: clock) }
        case .file:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString).journal").path
            try await check.run { clock in try FileJournalOutboxStore(path: path, clock: clock) }
        case .postgres:
            try await withTestDatabase { (database) async throws in
                try await check.run { clock in PostgresOutboxStore(database: database, worker: "contract", clock: clock) }
            }
        }
    }

    /// The checks that need no time to pass, run on the database's own clock (the default).
    static let timelessChecks = OutboxStoreConformance.checks.filter { check in
        !check.name.contains("lease ran out") && !check.name.contains("lease ends")
    }

    @Test(arguments: timelessChecks)
    func theStoreKeepsTheContractOnTheDatabasesClock(_ check: OutboxStoreConformance.Check) async throws {
        try await withTestDatabase { (database) async throws in
            try await check.run { _ in PostgresOutboxStore(database: database, worker: "contract") }
        }
    }

    @Test func leasesAreMeasuredOnTheDatabasesClockNotTheWorkers() async throws {
        try await withTestDatabase { (database) async throws in
            // No clock of the worker's is involved: the lease is now() + 60 s on the server.
            let store = PostgresOutboxStore(database: database, worker: "fast")
            try await store.enqueue(entries(1...2))
            let batch = try await store.claim(limit: 2, lease: .seconds(60), groupsTogether: false)
            #expect(batch.count == 2)
            let rows = try await database.client.query(
                "SELECT EXTRACT(EPOCH FROM lease_until - now())::float8 FROM \(unescaped: database.schema).outbox")
            for try await left in rows.decode(Double.self) { #expect(left > 55 && left <= 60, "lease ends in \(left) s on the database's clock") }
            #expect(try await store.acknowledge(batch.claims).count == 2)
        }
    }

    func entries(_ range: ClosedRange<Int>) -> [OutboxEntry] {
        range.map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                        enqueuedAt: Date(timeIntervalSince1970: 1_767_225_600 + Double(n)))
        }
    }

    @Test func workersOnSeparatePoolsClaimDisjointBatchesUntilTheQueueIsEmpty() async throws {
        try await withTestDatabase { (database) async throws in
            try await PostgresOutboxStore(database: database).enqueue(entries(1...1_000))
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        try await withPeer(of: database) { peer in
                            let store = PostgresOutboxStore(database: peer, worker: "w\(worker)")
                            var mine: [String] = []
                            while true {
                                let batch = try await store.claim(limit: 50, lease: .seconds(60), groupsTogether: false)
                                if batch.isEmpty { return mine }
                                mine += batch.map(\.externalId)
                                try await store.acknowledge(batch.claims)
                            }
                        }
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            let all = claimed.flatMap { $0 }
            #expect(all.count == 1_000 && Set(all).count == 1_000, "every entry once: \(all.count) claims, \(Set(all).count) distinct")
            #expect(claimed.filter { !$0.isEmpty }.count >= 2, "the work was shared")
            #expect(try await PostgresOutboxStore(database: database).backlog().count == 0)
        }
    }

    @Test func producersSharingASequenceEnqueueEachItemOnce() async throws {
        try await withTestDatabase { (database) async throws in
            let store = PostgresOutboxStore(database: database)
            #expect(try await store.enqueue(entries(1...10), producing: 1...10, of: "job-1") == true)
            // A second producer that thought the job was at 0 is refused and writes nothing.
            #expect(try await store.enqueue(entries(1...20), producing: 1...20, of: "job-1") == false)
            #expect(try await store.produced(of: "job-1") == 10)
            #expect(try await store.enqueue(entries(11...20), producing: 11...20, of: "job-1") == true)
            #expect(try await store.backlog().count == 20)
            #expect(try await store.produced(of: "job-2") == 0)
        }
    }

    @Test func deadLettersKeepTheEntryAndTheReason() async throws {
        try await withTestDatabase { (database) async throws in
            let store = PostgresOutboxStore(database: database)
            try await store.enqueue(entries(1...2))
            let at = Date(timeIntervalSince1970: 1_767_225_700)
            try await store.deadLetter([DeadLetter(entry: entries(2...2)[0], reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: amount", at: at)])
            let letters = try await store.deadLetters()
            #expect(letters.map(\.entry.externalId) == ["PAY-2"] && letters.first?.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: amount")
            #expect(letters.first?.at == at && letters.first?.entry.fields == ["Amount__c": .number(2)])
            #expect(try await store.pending(limit: 10).map(\.externalId) == ["PAY-1"])
        }
    }

    @Test func migrationIsIdempotentAndRefusesANewerSchema() async throws {
        try await withTestDatabase { (database) async throws in
            try await database.migrate()  // a second worker starting
            try await database.client.query("UPDATE \(unescaped: database.schema).schema_version SET version = 99")
            let error = await #expect(throws: PostgresStoreError.self) { try await database.migrate() }
            #expect(error?.description.contains("newer than this library's") == true)
        }
        #expect(throws: PostgresStoreError.self) { try FleetDatabase(url: "mysql://x@y/z") }
        #expect(throws: PostgresStoreError.self) { try FleetDatabase(url: "postgres://u@h/d", schema: "bad; DROP") }
        // A pool of the caller's own with a bad schema name is refused too, not given the default
        // schema (two fleets would share one outbox).
        let pool = PostgresClient(configuration: .init(host: "127.0.0.1", username: "u", password: nil, database: nil, tls: .disable))
        #expect(throws: PostgresStoreError.self) { try FleetDatabase(client: pool, schema: "Payments-EU") }
    }
}
#endif
