import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// What a Bulk ingest that stops part-way reports: a result for every input row, so nothing
/// saved is forgotten and nothing unsaved is taken for saved.
extension BulkIngestTests {
    func stopped(_ run: () async throws -> BulkIngestResult) async -> BulkIngestError? {
        do {
            let result = try await run()
            Issue.record("completed: \(result.records.count) rows")
            return nil
        } catch let error as BulkIngestError {
            return error
        } catch {
            Issue.record("not a BulkIngestError: \(error)")
            return nil
        }
    }

    @Test func aFailedJobSurfacesItsErrorMessage() async throws {
        let (org, client) = try setUp()
        org.failNextBulkJob(errorMessage: "InvalidBatch : Field name not found : Bogus__c")
        let error = try #require(await stopped { try await client.bulkIngest("Payment__c", operation: .insert, records: payments(3)) })
        guard case .jobFailed(_, let message) = error.reason as? BulkError else { Issue.record("\(error)"); return }
        #expect(message == "InvalidBatch : Field name not found : Bogus__c")
        #expect(error.partial.records.map(\.outcome) == [.unprocessed, .unprocessed, .unprocessed])
        #expect(error.partial.jobs.map(\.state) == [.failed])
        #expect(String(describing: error).contains("0 saved, 0 rejected, 3 unprocessed, 0 unknown"))
    }

    @Test func aJobThatFailsPartWayReportsTheRowsItSaved() async throws {
        let (org, client) = try setUp()
        org.failNextBulkJob(errorMessage: "InternalServerError", afterProcessing: 4)
        let error = try #require(await stopped { try await client.bulkIngest("Payment__c", operation: .insert, records: payments(6)) })
        let outcomes = error.partial.records.map(\.outcome)
        // Rows 0…3 were processed (row 3 has a negative amount and was rejected), 4 and 5 were not.
        let saved = org.records(of: "Payment__c")
        #expect(saved.count == 3)
        for index in [0, 1, 2] {
            guard case .succeeded(let id, true) = outcomes[index] else { Issue.record("row \(index): \(outcomes[index])"); continue }
            #expect(saved.contains { $0["Id"]?.stringValue == id && $0["Reference__c"]?.stringValue == String(format: "PAY-%06d", index) })
        }
        #expect(outcomes[3] == .failed(error: "FIELD_CUSTOM_VALIDATION_EXCEPTION:Amount must be positive"))
        #expect(Array(outcomes[4...]) == [.unprocessed, .unprocessed])
        #expect(error.partial.records.allSatisfy { $0.jobID == error.partial.jobs.first?.id })
    }

    @Test func aStormOutlastingThePollTimeoutKeepsEarlierJobsAndMarksTheRestHonestly() async throws {
        // Five jobs of ~9 rows each; job 1 completes at ~42 s, a 3-hour storm starts while
        // job 2 is processing, and the poller gives up after 10 minutes.
        let (_, client) = try setUp(faults: [.serviceUnavailable(from: .seconds(44), for: .seconds(10_800))])
        let options = BulkIngestOptions(maxUploadBytes: 200, poll: BulkPollPolicy(timeout: .seconds(600)))
        let input = payments(40)
        let error = try #require(await stopped {
            try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: input, options: options)
        })
        guard case .timedOut = error.reason as? BulkError else { Issue.record("\(error.reason)"); return }
        let records = error.partial.records
        #expect(records.map(\.index) == Array(0..<40))
        #expect(error.partial.jobs.count == 2)
        let (first, second) = (error.partial.jobs[0].id, error.partial.jobs[1].id)
        let firstRows = records.filter { $0.jobID == first }
        let secondRows = records.filter { $0.jobID == second }
        #expect(!firstRows.isEmpty && firstRows.allSatisfy { if case .unknown = $0.outcome { false } else if case .unprocessed = $0.outcome { false } else { true } })
        #expect(!secondRows.isEmpty && secondRows.allSatisfy { $0.outcome == .unknown })  // submitted, results unreadable
        let never = records.filter { $0.jobID == nil }
        #expect(!never.isEmpty && never.allSatisfy { $0.outcome == .unprocessed })
        #expect(firstRows.count + secondRows.count + never.count == 40)
        #expect(error.partial.succeeded + error.partial.failed == firstRows.count)
    }

    @Test func aLostUploadAbortsTheJobAndLeavesEveryRowUnprocessed() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        // The upload reaches Salesforce but its answer is lost: not retried (not idempotent).
        let lossy = MockTransport { request in
            let response = try await org.send(request)
            if request.method == .put && request.url.path.hasSuffix("/batches") {
                throw TransportError(delivery: .ambiguous, kind: .connectionLost, message: "reset after sending")
            }
            return response
        }
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: lossy,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let error = try #require(await stopped { try await client.bulkIngest("Payment__c", operation: .insert, records: payments(3)) })
        #expect((error.reason as? TransportError)?.delivery == .ambiguous)
        #expect(client.configuration.classifier.classify(error) == .ambiguousNetwork)
        #expect(error.partial.records.map(\.outcome) == [.unprocessed, .unprocessed, .unprocessed])
        #expect(Array(org.bulkJobStates.values) == [.aborted])
        #expect(org.records(of: "Payment__c").isEmpty)
        #expect(org.calls["PUT bulk upload"] == 1)
    }

    @Test func cancellingTheTaskAbortsTheJobOnTheServer() async throws {
        let clock = VirtualClock(mode: .manual)
        let (org, client) = try setUp(clock: clock)
        let task = Task { try await client.bulkIngest("Payment__c", operation: .insert, records: payments(5)) }
        #expect(await clock.waitForSleepers(1))  // the poller is waiting
        task.cancel()
        let error = try #require(await stopped { try await task.value })
        #expect(error.reason is CancellationError)
        #expect(client.configuration.classifier.classify(error) == .cancelled)
        #expect(error.partial.records.map(\.outcome) == Array(repeating: .unknown, count: 5))  // closed, then aborted: not read
        #expect(Array(org.bulkJobStates.values) == [.aborted])
        #expect(org.records(of: "Payment__c").isEmpty)
    }

    @Test func aRunCancelledDuringALaterJobStillReportsTheRowsEarlierJobsSaved() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(options: SimulatorOptions(bulkRowValidator: Self.rejectNegative), clock: clock)
        let running = Lock<Task<BulkIngestResult, any Error>?>(nil)
        let closes = Lock(0)
        // Cancel the run (as a shutdown would) once the second job is closed.
        let transport = MockTransport { request in
            let response = try await org.send(request)
            if request.method == .patch, request.bodyText.contains("UploadComplete"), closes.withLock({ $0 += 1; return $0 }) == 2 {
                running.withLock { $0?.cancel() }
            }
            return response
        }
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: transport,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let input = payments(40)
        let (start, started) = AsyncStream<Void>.makeStream()
        let task = Task {
            for await _ in start {}
            return try await client.bulkIngest("Payment__c", operation: .upsert, externalIdField: "Reference__c", records: input,
                                               options: BulkIngestOptions(maxUploadBytes: 200))
        }
        running.withLock { $0 = task }
        started.finish()
        let error = try #require(await stopped { try await task.value })
        #expect(error.reason is CancellationError)
        let records = error.partial.records
        #expect(records.map(\.index) == Array(0..<40))
        #expect(error.partial.jobs.count == 2)
        let (first, second) = (error.partial.jobs[0].id, error.partial.jobs[1].id)
        let saved = records.filter { $0.jobID == first }
        #expect(!saved.isEmpty && saved.allSatisfy { if case .succeeded = $0.outcome { true } else if case .failed = $0.outcome { true } else { false } })
        #expect(org.records(of: "Payment__c").count == saved.filter { if case .succeeded = $0.outcome { true } else { false } }.count)
        #expect(records.filter { $0.jobID == second }.allSatisfy { $0.outcome == .unknown })
        let never = records.filter { $0.jobID == nil }
        #expect(!never.isEmpty && never.allSatisfy { $0.outcome == .unprocessed })
        #expect(org.bulkJobStates[second] == .aborted)
    }

    @Test func aJobThatOutlivesTheTimeoutIsAbortedAndReported() async throws {
        let (org, client) = try setUp(processing: .seconds(3_600))
        let options = BulkIngestOptions(poll: BulkPollPolicy(timeout: .seconds(120)))
        let error = try #require(await stopped { try await client.bulkIngest("Payment__c", operation: .insert, records: payments(2), options: options) })
        guard case .timedOut(_, let state) = error.reason as? BulkError else { Issue.record("\(error.reason)"); return }
        #expect(state == .inProgress)
        #expect(Array(org.bulkJobStates.values) == [.aborted])
        #expect(error.partial.records.map(\.outcome) == [.unprocessed, .unprocessed])  // Salesforce lists them as unprocessed
    }
}
