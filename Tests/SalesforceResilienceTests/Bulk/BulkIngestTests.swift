import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

struct BulkPayment: Codable, Sendable {
    var Reference__c: String
    var Amount__c: Double
    var Note__c: String
}

@Suite struct BulkIngestTests {
    static let rejectNegative: @Sendable ([String: String]) -> String? = { row in
        (Double(row["Amount__c"] ?? "") ?? 0) < 0 ? "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must be positive" : nil
    }

    func setUp(clock: VirtualClock = VirtualClock(mode: .autoAdvance), processing: Duration = .seconds(30), faults: [ChaosFault] = [],
               recorder: EventRecorder = EventRecorder()) throws -> (SalesforceSimulator, SalesforceClient) {
        let org = SalesforceSimulator(options: SimulatorOptions(bulkProcessingTime: processing, bulkRowValidator: Self.rejectNegative), clock: clock)
        let transport: any HTTPTransport = faults.isEmpty ? org : ChaosTransport(wrapping: org, clock: clock, seed: 5, faults: faults)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
            tokenProvider: org.clientCredentialsProvider(), events: recorder.sink, clock: clock, random: RandomSource(seed: 5))
        return (org, client)
    }

    func payments(_ count: Int) -> [BulkPayment] {
        (0..<count).map { BulkPayment(Reference__c: String(format: "PAY-%06d", $0), Amount__c: $0 % 10 == 3 ? -1 : Double($0), Note__c: "n\($0)") }
    }

    @Test func tenThousandRowUpsertMapsEveryResultBackToItsRow() async throws {
        let (org, client) = try setUp()
        let input = payments(10_000)
        let result = try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: input)
        #expect(result.records.count == 10_000)
        #expect(result.records.map(\.index) == Array(0..<10_000))
        for (index, record) in result.records.enumerated() {
            if index % 10 == 3 {
                #expect(record.outcome == .failed(error: "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must be positive"), "row \(index)")
            } else {
                guard case .succeeded(let id, let created) = record.outcome else { Issue.record("row \(index): \(record.outcome)"); continue }
                #expect(created && id.hasPrefix("a01"), "row \(index)")
            }
        }
        #expect(result.succeeded == 9_000 && result.failed == 1_000 && result.unprocessed == 0)
        #expect(org.records(of: "Payment__c").count == 9_000)
        // The id each row got is the id of the record holding its reference.
        let stored = Dictionary(uniqueKeysWithValues: org.records(of: "Payment__c").map { ($0["Reference__c"]?.stringValue ?? "", $0["Id"]?.stringValue ?? "") })
        if case .succeeded(let id, _) = result.records[42].outcome { #expect(stored["PAY-000042"] == id) }
        // Run again: every row that landed is now an update.
        let again = try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: input)
        #expect(again.records.filter { $0.outcome != .failed(error: "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must be positive") }
            .allSatisfy { if case .succeeded(_, let created) = $0.outcome { !created } else { false } })
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
    }

    @Test func aStormDuringPollingDoesNotLoseTheJob() async throws {
        // The job takes 5 minutes; a 503 storm covers most of that time.
        let (org, client) = try setUp(processing: .seconds(300), faults: [.serviceUnavailable(from: .seconds(20), for: .seconds(240))])
        let result = try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: payments(50))
        #expect(result.succeeded == 45 && result.failed == 5)
        #expect(org.records(of: "Payment__c").count == 45)
        #expect(org.bulkJobStates.values.allSatisfy { $0 == .jobComplete })
    }

    @Test func aTenMinuteJobCostsTensOfPollsNotHundreds() async throws {
        let recorder = EventRecorder()
        let (org, client) = try setUp(processing: .seconds(600), recorder: recorder)
        _ = try await client.bulkIngest("Payment__c", operation: .insert, records: payments(10))
        let polls = org.calls["GET bulk ingest status"] ?? 0
        #expect(polls >= 10 && polls <= 40, "polls: \(polls)")
        let states = recorder.events.compactMap { event -> BulkJobState? in
            if case .bulkJobStateChanged(_, let state, _, _) = event { return state }
            return nil
        }
        #expect(states == [.open, .uploadComplete, .inProgress, .jobComplete])
    }

    @Test func inputsAboveTheUploadLimitAreSplitAcrossJobs() async throws {
        let (org, client) = try setUp()
        let result = try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c",
                                                 records: payments(100), options: BulkIngestOptions(maxUploadBytes: 1_000))
        #expect(result.jobs.count > 1)
        #expect(result.records.map(\.index) == Array(0..<100))
        #expect(result.succeeded == 90)
        #expect(org.records(of: "Payment__c").count == 90)
    }

    @Test func hostileCSVValuesArriveIntact() async throws {
        let (org, client) = try setUp()
        let notes = ["with,comma", "with \"quotes\"", "multi\nline", " padded ", "emoji 💸", "a\"\"b"]
        let records = notes.enumerated().map { BulkPayment(Reference__c: "R-\($0.offset)", Amount__c: 1, Note__c: $0.element) }
        let result = try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: records)
        #expect(result.succeeded == notes.count)
        let stored = Dictionary(uniqueKeysWithValues: org.records(of: "Payment__c").map { ($0["Reference__c"]?.stringValue ?? "", $0["Note__c"]?.stringValue ?? "") })
        for (index, note) in notes.enumerated() { #expect(stored["R-\(index)"] == note) }
    }

    @Test func rawCSVCanBeLoadedAndDeletesWorkById() async throws {
        let (org, client) = try setUp()
        let ids = org.seed("Payment__c", records: [["Reference__c": "A"], ["Reference__c": "B"]])
        let result = try await client.bulkIngest("Payment__c", operation: .delete, csv: "Id\n\(ids[0])\n001MISSING000000AAA\n")
        #expect(result.succeeded == 1 && result.failed == 1)
        #expect(org.records(of: "Payment__c").map { $0["Reference__c"] } == ["B"])
    }

    @Test func upsertWithoutTheExternalIdColumnIsRefusedBeforeAnyCall() async throws {
        let (org, client) = try setUp()
        await #expect(throws: SalesforceClientError.self) {
            try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Missing__c", records: payments(1))
        }
        #expect(org.calls.isEmpty)
    }
}

@Suite struct BulkQueryTests {
    @Test func rowsArriveAcrossLocatorPages() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        org.seed("Account", records: (1...25).map { ["Name": .string("Acme, \($0)"), "Rating": .number(Double($0))] })
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let rows = try await client.bulkQuery("SELECT Id, Name, Rating FROM Account", maxRecordsPerPage: 10).collect()
        #expect(rows.count == 25)
        #expect(rows.first?["Name"] == "Acme, 1" && rows.last?["Rating"] == "25")
        #expect(org.calls["GET bulk query results"] == 3)
    }

    @Test func aFailedQueryJobIsTyped() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        org.failNextBulkJob(errorMessage: "query timed out")
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        await #expect(throws: BulkError.jobFailed(jobID: "750SIM000000001AAA", message: "query timed out")) {
            try await client.bulkQuery("SELECT Id FROM Account").collect()
        }
    }
}
