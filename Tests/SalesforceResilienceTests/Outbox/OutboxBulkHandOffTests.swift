import Foundation
@testable import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The outbox's Bulk API 2.0 hand-off: a backlog at the threshold goes in upsert jobs, each
/// record is saved once per version, result rows are joined by external id, per-record errors
/// follow the collections rules, and a failed job sends the outbox back to collections.
@Suite struct OutboxBulkHandOffTests {
    struct Setup {
        let clock: VirtualClock
        let org: SalesforceSimulator
        let client: SalesforceClient
        let store: InMemoryOutboxStore
        let recorder: EventRecorder
    }

    func setUp(validator: (@Sendable ([String: String]) -> String?)? = nil, faults: [ChaosFault] = [], processing: Duration = .seconds(20),
               wrap: (any HTTPTransport) -> any HTTPTransport = { $0 }) throws -> Setup {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(options: SimulatorOptions(bulkProcessingTime: processing, bulkRowValidator: validator), clock: clock)
        let chaos: any HTTPTransport = faults.isEmpty ? org : ChaosTransport(wrapping: org, clock: clock, seed: 11, faults: faults)
        let recorder = EventRecorder()
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: wrap(chaos),
                                          tokenProvider: org.clientCredentialsProvider(), events: recorder.sink, clock: clock, random: RandomSource(seed: 11))
        return Setup(clock: clock, org: org, client: client, store: InMemoryOutboxStore(clock: clock), recorder: recorder)
    }

    func payments(_ range: ClosedRange<Int>, at setup: Setup, version: Int = 1) -> [OutboxEntry] {
        range.map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)",
                        fields: ["Amount__c": .number(Double(n)), "Version__c": .number(Double(version))], enqueuedAt: setup.clock.wallClockNow)
        }
    }

    static let handOff = BulkHandOff(threshold: 1_000, maxRecordsPerJob: 1_000)

    @Test func aBacklogAtTheThresholdGoesInBulkJobsAndEachRecordIsSavedOnce() async throws {
        let setup = try setUp()
        await setup.store.enqueue(payments(1...2_500, at: setup))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff), random: RandomSource(seed: 1))
        try await outbox.drain()
        // 2 jobs of 1,000; then 500 left, under the threshold: 3 collections calls.
        #expect(setup.org.calls["POST bulk ingest"] == 2)
        #expect(setup.org.calls["PATCH collections"] == 3)
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 2_500)
        #expect(saves.values.allSatisfy { $0 == 1 }, "saved more than once: \(saves.filter { $0.value > 1 }.keys.sorted().prefix(5))")
        #expect(setup.org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
        #expect(await outbox.delivered == 2_500)
        #expect(await setup.store.backlog().count == 0)
        #expect(Set(setup.org.bulkJobStates.values) == [.jobComplete])
    }

    @Test func byDefaultBelowTheThresholdOrWithGroupsTogetherNoJobIsMade() async throws {
        for options in [OutboxOptions(bulkHandOff: BulkHandOff(threshold: 1_001)), OutboxOptions(groupsTogether: true, bulkHandOff: Self.handOff),
                        OutboxOptions()] {
            let setup = try setUp()
            await setup.store.enqueue(payments(1...1_000, at: setup))
            try await Outbox(store: setup.store, client: setup.client, options: options).drain()
            #expect(setup.org.calls["POST bulk ingest"] == nil)
            #expect(setup.org.calls["PATCH collections"] == 5)
            #expect(setup.org.records(of: "Payment__c").count == 1_000)
        }
    }

    @Test func resultRowsReturnedShuffledAreJoinedByExternalId() async throws {
        // Every tenth amount is refused; the result files list rows in a shuffled order.
        let setup = try setUp(validator: { row in
            (Int(row["Amount__c"] ?? "") ?? 0) % 10 == 0 ? "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must not end in 0:Amount__c" : nil
        })
        setup.org.shuffleBulkResults(seed: 42)
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff))
        try await outbox.drain()
        #expect(setup.org.calls["POST bulk ingest"] == 1)
        #expect(setup.org.calls["PATCH collections"] == nil)
        let letters = await setup.store.deadLetters
        #expect(Set(letters.map(\.entry.externalId)) == Set(stride(from: 10, through: 1_000, by: 10).map { "PAY-\($0)" }))
        #expect(letters.allSatisfy { $0.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must not end in 0:Amount__c" }, "\(letters.first?.reason ?? "")")
        let landed = Set(setup.org.records(of: "Payment__c").compactMap { $0["Reference__c"]?.stringValue })
        #expect(landed == Set((1...1_000).filter { $0 % 10 != 0 }.map { "PAY-\($0)" }))
        #expect(await outbox.delivered == 900)
        #expect(await outbox.deadLettered == 100)
    }

    @Test func transientRowErrorsInAJobAreRetriedByTheCollectionsRules() async throws {
        let setup = try setUp()
        #expect(OutboxDeliveryTests.failOnce(setup.org, every: 20, of: 1_000) == 50)
        setup.org.failRecord("PAY-7", code: "UNABLE_TO_LOCK_ROW", message: "unable to obtain exclusive access to this record", times: 100)
        setup.org.failRecord("PAY-8", code: "INVALID_EMAIL_ADDRESS", message: "Email: invalid email address", times: 100)
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let options = OutboxOptions(recordAttemptLimit: 3, bulkHandOff: Self.handOff)
        let outbox = Outbox(store: setup.store, client: setup.client, options: options, random: RandomSource(seed: 2))
        try await outbox.drain()
        #expect(setup.org.calls["POST bulk ingest"] == 1)
        let letters = await setup.store.deadLetters.sorted { $0.entry.externalId < $1.entry.externalId }
        #expect(letters.map(\.entry.externalId) == ["PAY-7", "PAY-8"])
        #expect(letters.first?.reason.hasPrefix("gave up after 3 attempts; last error: UNABLE_TO_LOCK_ROW") == true, "\(letters.first?.reason ?? "")")
        #expect(letters.last?.reason == "INVALID_EMAIL_ADDRESS: Email: invalid email address", "a permanent error goes after one job")
        #expect(setup.org.records(of: "Payment__c").count == 998)
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 998 && saves.values.allSatisfy { $0 == 1 })
    }

    @Test func aFailedJobFallsBackToCollectionsAndWhatItSavedIsNotSentAgain() async throws {
        let setup = try setUp()
        setup.org.failNextBulkJob(errorMessage: "InternalServerError: the job could not be processed", afterProcessing: 300)
        await setup.store.enqueue(payments(1...1_500, at: setup))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff))
        try await outbox.drain()
        #expect(Array(setup.org.bulkJobStates.values) == [.failed], "one job, and no second while suspended")
        // 300 saved by the failed job; the other 1,200 by collections (6 calls).
        #expect(setup.org.calls["PATCH collections"] == 6)
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 1_500 && saves.values.allSatisfy { $0 == 1 })
        let suspensions = setup.recorder.events.compactMap { event -> Duration? in
            if case .outboxBulkSuspended(let reason, let duration) = event, reason.contains("InternalServerError") { return duration }
            return nil
        }
        #expect(suspensions == [.seconds(900)])
    }

    @Test func theHandOffResumesAfterTheFallbackPeriod() async throws {
        let setup = try setUp()
        setup.org.failNextBulkJob(errorMessage: "InternalServerError", afterProcessing: 0)
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let handOff = BulkHandOff(threshold: 1_000, maxRecordsPerJob: 1_000, fallbackPeriod: .seconds(60))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: handOff))
        #expect(try await outbox.drainOnce() == .sent(delivered: 0, deadLettered: 0, retrying: 1_000))
        #expect(try await outbox.drainOnce() == .sent(delivered: 200, deadLettered: 0, retrying: 0), "suspended: collections")
        await setup.store.enqueue(payments(1_001...1_200, at: setup))
        try await setup.clock.sleep(until: setup.clock.now + .seconds(60))
        #expect(try await outbox.drainOnce() == .sent(delivered: 1_000, deadLettered: 0, retrying: 0), "after the period: a job again")
        #expect(setup.org.bulkJobStates.values.sorted { $0.rawValue < $1.rawValue } == [.failed, .jobComplete])
    }

    @Test func aJobPastItsTimeLimitIsAbortedAndTheOutboxFallsBack() async throws {
        let setup = try setUp(processing: .seconds(3_600))
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let handOff = BulkHandOff(threshold: 1_000, maxRecordsPerJob: 1_000, jobTimeLimit: .seconds(60))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: handOff))
        let started = setup.clock.now
        #expect(try await outbox.drainOnce() == .sent(delivered: 0, deadLettered: 0, retrying: 1_000))
        #expect(setup.clock.now - started <= .seconds(60), "the poller gives up at 90 % of the limit")
        #expect(Array(setup.org.bulkJobStates.values) == [.aborted])
        #expect(setup.recorder.events.contains { if case .outboxBulkSuspended = $0 { true } else { false } })
        try await outbox.drain()
        #expect(setup.org.calls["PATCH collections"] == 5)
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 1_000 && saves.values.allSatisfy { $0 == 1 })
    }

    @Test func anOutageAroundTheJobIsRetriedWithoutGivingUpBulk() async throws {
        let setup = try setUp(faults: [.serviceUnavailable(from: .zero, for: .seconds(120), retryAfter: nil)])
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff), random: RandomSource(seed: 3))
        try await outbox.drain()
        #expect(setup.org.calls["PATCH collections"] == nil)
        #expect(setup.org.bulkJobStates.values.contains(.jobComplete))
        #expect(!setup.recorder.events.contains { if case .outboxBulkSuspended = $0 { true } else { false } })
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 1_000 && saves.values.allSatisfy { $0 == 1 })
    }

    @Test func aNewerVersionEnqueuedWhileTheJobRunsIsSentAfterIt() async throws {
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        var hold: OutboxClaimTests.HoldFirstBatch?
        let setup = try setUp(wrap: { inner in
            let held = OutboxClaimTests.HoldFirstBatch(inner, arrived: arrival)  // holds the job's close (its first PATCH)
            hold = held
            return held
        })
        await setup.store.enqueue(payments(1...1_000, at: setup))
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff))
        let first = Task { try await outbox.drainOnce() }
        for await _ in arrived {}
        await setup.store.enqueue(payments(1...10, at: setup, version: 2))
        hold?.release()
        #expect(try await first.value == .sent(delivered: 990, deadLettered: 0, retrying: 0))
        #expect(await setup.store.backlog().count == 10, "the second versions stay queued")
        try await outbox.drain()
        let records = setup.org.records(of: "Payment__c")
        let versions = Dictionary(records.map { ($0["Reference__c"]?.stringValue ?? "", $0["Version__c"]) }, uniquingKeysWith: { $1 })
        #expect((1...10).allSatisfy { versions["PAY-\($0)"] == .number(2) })
        let saves = setup.org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect((1...10).allSatisfy { saves["PAY-\($0)"] == 2 } && (11...1_000).allSatisfy { saves["PAY-\($0)"] == 1 })
    }

    @Test func entriesWithoutACSVCellGoByCollections() async throws {
        let setup = try setUp()
        var entries = payments(1...1_100, at: setup)
        for index in [0, 500, 1_099] { entries[index].fields["Tags__c"] = .array(["a"]) }
        await setup.store.enqueue(entries)
        let outbox = Outbox(store: setup.store, client: setup.client, options: OutboxOptions(bulkHandOff: Self.handOff))
        try await outbox.drain()
        #expect(setup.org.calls["POST bulk ingest"] == 1)
        #expect(setup.org.calls["PATCH collections"] == 1, "100 left and the three with an array")
        #expect(setup.org.records(of: "Payment__c").count == 1_100)
        #expect(setup.org.upsertSaves(of: "Payment__c", field: "Reference__c").values.allSatisfy { $0 == 1 })
    }

    @Test func cellsSayWhatAJSONUpsertWould() {
        #expect(BulkCells.cell(.null) == "#N/A")
        #expect(BulkCells.cell(.string("")) == "#N/A")
        #expect(BulkCells.cell(.string("a,\"b\"\nc")) == "a,\"b\"\nc")
        #expect(BulkCells.cell(.string("#N/A")) == nil)
        #expect(BulkCells.cell(.bool(true)) == "true")
        #expect(BulkCells.cell(.number(12)) == "12")
        #expect(BulkCells.cell(.number(-0.25)) == "-0.25")
        #expect(BulkCells.cell(.number(1e20)) == nil)
        #expect(BulkCells.cell(.number(1e-7)) == nil)
        #expect(BulkCells.cell(.object([:])) == nil)
        let entry = OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-1",
                                fields: ["Reference__c": "ignored", "Amount__c": 5], enqueuedAt: Date())
        #expect(BulkCells.cells(entry) == ["Reference__c": "PAY-1", "Amount__c": "5"])
    }

    @Test func resultErrorsReadAsAPIErrors() {
        let lock = BulkCells.recordError("UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--")
        #expect(lock.errorCode == "UNABLE_TO_LOCK_ROW" && lock.message == "unable to obtain exclusive access to this record")
        let field = BulkCells.recordError("REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --")
        #expect(field.errorCode == "REQUIRED_FIELD_MISSING" && field.message == "Required fields are missing: [Name]:Name --")
        let prose = BulkCells.recordError("something broke: badly")
        #expect(prose.errorCode == "" && prose.message == "something broke: badly")
        #expect(BulkCells.recordError("").errorCode == "")
        #expect(OutcomeClassifier().classify(upsertRecordErrors: [lock]).isRetryable(idempotent: true))
    }
}
