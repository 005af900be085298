import Foundation
import SalesforceResilience
import Testing

@Suite struct FileJournalOutboxStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String = "outbox.jsonl") -> String { directory.appendingPathComponent(name).path }

    func entry(_ n: Int, amount: Double = 1) -> OutboxEntry {
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)",
                    fields: ["Amount__c": .number(amount)], enqueuedAt: Date(timeIntervalSince1970: Double(n)))
    }

    func keys(_ store: FileJournalOutboxStore) async -> [String] {
        await store.pending(limit: .max).map(\.externalId)
    }

    @Test func entriesSurviveReopening() async throws {
        let store = try FileJournalOutboxStore(path: path())
        try await store.enqueue([entry(1), entry(2), entry(3)])
        try await store.acknowledge(try await store.claims(for: [entry(2).key]))
        try await store.recordAttempt(try await store.claims(for: [entry(3).key]))
        await store.close()
        let reopened = try FileJournalOutboxStore(path: path())
        #expect(await keys(reopened) == ["PAY-1", "PAY-3"])
        #expect(await reopened.pending(limit: 10).last?.attempts == 1)
        #expect(await reopened.backlog().count == 2)
        #expect(await reopened.backlog().oldest == Date(timeIntervalSince1970: 1))
    }

    @Test func enqueuingAPendingKeyReplacesItsFieldsAndKeepsItsPlace() async throws {
        let store = try FileJournalOutboxStore(path: path())
        try await store.enqueue([entry(1), entry(2)])
        try await store.enqueue([entry(1, amount: 9)])
        let pending = await store.pending(limit: 10)
        #expect(pending.map(\.externalId) == ["PAY-1", "PAY-2"])
        #expect(pending[0].fields == ["Amount__c": 9])
    }

    @Test func aKeyDeliveredThenEnqueuedAgainIsPendingOnce() async throws {
        let store = try FileJournalOutboxStore(path: path())
        try await store.enqueue([entry(1), entry(2)])
        try await store.acknowledge(try await store.claims(for: [entry(1).key]))
        try await store.enqueue([entry(1)])
        #expect(await keys(store) == ["PAY-2", "PAY-1"])
        await store.close()
        #expect(await keys(try FileJournalOutboxStore(path: path())) == ["PAY-2", "PAY-1"])
    }

    @Test func deadLettersAreWrittenWithTheirReasonAndLeaveThePendingSet() async throws {
        let store = try FileJournalOutboxStore(path: path())
        try await store.enqueue([entry(1), entry(2)])
        try await store.deadLetter([DeadLetter(entry: entry(1), reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must be positive", at: Date(timeIntervalSince1970: 5))])
        #expect(await keys(store) == ["PAY-2"])
        await store.close()
        let reopened = try FileJournalOutboxStore(path: path())
        let letters = try await reopened.deadLetters()
        #expect(letters.map(\.entry.externalId) == ["PAY-1"])
        #expect(letters.first?.reason == "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount must be positive")
        #expect(await keys(reopened) == ["PAY-2"])
    }

    @Test func recoversAfterACrashAtEveryByteOfEveryWrite() async throws {
        // Run a sequence of operations, noting the journal's size and the expected state after each.
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal)
        var checkpoints: [(size: Int, keys: [String], attempts: [Int])] = [(0, [], [])]
        func checkpoint() async throws {
            let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int ?? -1
            let pending = await store.pending(limit: .max)
            checkpoints.append((size, pending.map(\.externalId), pending.map(\.attempts)))
        }
        try await store.enqueue([entry(1), entry(2)]); try await checkpoint()
        try await store.enqueue([entry(3)]); try await checkpoint()
        try await store.recordAttempt(try await store.claims(for: [entry(1).key, entry(3).key])); try await checkpoint()
        try await store.acknowledge(try await store.claims(for: [entry(2).key])); try await checkpoint()
        try await store.enqueue([entry(2, amount: 5), entry(4)]); try await checkpoint()
        try await store.deadLetter([DeadLetter(entry: entry(3), reason: "bad", at: Date())]); try await checkpoint()
        try await store.acknowledge(try await store.claims(for: [entry(1).key, entry(4).key])); try await checkpoint()
        let full = try Data(contentsOf: URL(fileURLWithPath: journal))
        #expect(full.count == checkpoints.last?.size)
        // A crash can leave any prefix of the file. Each must recover to the last complete write.
        for length in 0...full.count {
            let crashed = path("crash-\(length).jsonl")
            try full.prefix(length).write(to: URL(fileURLWithPath: crashed))
            let recovered = try FileJournalOutboxStore(path: crashed)
            let expected = checkpoints.last { $0.size <= length }!
            let pending = await recovered.pending(limit: .max)
            #expect(pending.map(\.externalId) == expected.keys, "cut at byte \(length)")
            #expect(pending.map(\.attempts) == expected.attempts, "cut at byte \(length)")
            // The torn tail was cut, so appending after recovery yields a clean journal.
            try await recovered.enqueue([entry(99)])
            await recovered.close()
            let reopened = try FileJournalOutboxStore(path: crashed)
            let reopenedKeys = await keys(reopened)
            await reopened.close()
            #expect(reopenedKeys == expected.keys + ["PAY-99"], "cut at byte \(length)")
            try FileManager.default.removeItem(atPath: crashed)
        }
    }

    @Test func aCorruptLineInTheMiddleIsAnErrorNotSilentLoss() async throws {
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal)
        try await store.enqueue([entry(1)])
        try await store.acknowledge(try await store.claims(for: [entry(1).key]))
        var lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").map(String.init)
        lines.insert("not json at all", at: 1)
        try (lines.joined(separator: "\n") + "\n").write(toFile: journal, atomically: true, encoding: .utf8)
        #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: journal) }
    }

    @Test func compactionShrinksTheJournalAndKeepsThePendingEntries() async throws {
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal, compactAfterBytes: 10_000)
        try await store.enqueue((1...3_000).map { entry($0) })
        for start in stride(from: 1, through: 2_990, by: 10) {
            try await store.acknowledge(try await store.claims(for: (start..<(start + 10)).map { entry($0).key }))
        }
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int ?? 0
        #expect(size < 20_000)
        #expect(await keys(store) == (2_991...3_000).map { "PAY-\($0)" })
        try await store.recordAttempt(try await store.claims(for: [entry(2_991).key]))
        try await store.enqueue([entry(5_000)])
        await store.close()
        let reopened = try FileJournalOutboxStore(path: journal)
        #expect(await keys(reopened) == (2_991...3_000).map { "PAY-\($0)" } + ["PAY-5000"])
        #expect(await reopened.pending(limit: 1).first?.attempts == 1)
    }

    @Test func aCompactionInterruptedBeforeItsRenameLeavesTheOldJournal() async throws {
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal)
        try await store.enqueue([entry(1), entry(2)])
        await store.close()
        try Data("partial compaction".utf8).write(to: URL(fileURLWithPath: journal + ".compact"))
        #expect(await keys(try FileJournalOutboxStore(path: journal)) == ["PAY-1", "PAY-2"])
        #expect(!FileManager.default.fileExists(atPath: journal + ".compact"))
    }

    @Test(arguments: ["not a journal, and no newline", "Reference__c,Amount__c\nPAY-1,10\n", "{\"format\":\"someone else\",\"version\":1}\n"])
    func aFileThatIsNotAJournalIsRefusedAndLeftUntouched(content: String) throws {
        let foreign = path("foreign.csv")
        try content.write(toFile: foreign, atomically: true, encoding: .utf8)
        let error = #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: foreign) }
        #expect(error?.description.contains("is not an outbox journal") == true)
        #expect(try String(contentsOfFile: foreign, encoding: .utf8) == content)
    }

    @Test func aJournalFromANewerFormatVersionIsRefused() throws {
        let journal = path()
        try #"{"format":"SalesforceResilience.OutboxJournal","version":2}"#.appending("\n").write(toFile: journal, atomically: true, encoding: .utf8)
        let error = #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: journal) }
        #expect(error?.description.contains("version 2") == true)
    }

    @Test func aJournalWrittenBeforeTheHeaderExistedStillOpens() async throws {
        let journal = path()
        let legacy = #"{"enqueue":{"_0":[{"sobject":"Payment__c","externalIdField":"Reference__c","externalId":"PAY-7","fields":{},"enqueuedAt":0,"attempts":0}]}}"#
        try (legacy + "\n").write(toFile: journal, atomically: true, encoding: .utf8)
        #expect(await keys(try FileJournalOutboxStore(path: journal)) == ["PAY-7"])
    }

    @Test func aNewJournalStartsWithItsFormatHeader() throws {
        let journal = path()
        _ = try FileJournalOutboxStore(path: journal)
        #expect(try Data(contentsOf: URL(fileURLWithPath: journal)).starts(with: Data(#"{"format":"SalesforceResilience.OutboxJournal""#.utf8)))
    }

    @Test func metadataSurvivesReopeningAndCompaction() async throws {
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal, compactAfterBytes: 1_000)
        try await store.setMetadata(["org.id": "00DXX0000001", "job.count": "300"])
        try await store.setMetadata(["job.count": "400"])
        try await store.enqueue((1...200).map { entry($0) })
        try await store.acknowledge(try await store.claims(for: (1...199).map { entry($0).key }))  // compacts
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int ?? 0
        #expect(size < 2_000)
        await store.close()
        let reopened = try FileJournalOutboxStore(path: journal)
        #expect(await reopened.metadata == ["org.id": "00DXX0000001", "job.count": "400"])
        #expect(await keys(reopened) == ["PAY-200"])
    }

    @Test func systemErrorsAreExplainedNotJustNumbered() throws {
        let error = #expect(throws: FileJournalOutboxStore.JournalError.self) {
            try FileJournalOutboxStore(path: directory.appendingPathComponent("missing/dir/outbox.jsonl").path)
        }
        #expect(error?.description.contains("No such file or directory") == true)
    }

    @Test func theInMemoryStoreBehavesTheSame() async throws {
        let store = InMemoryOutboxStore()
        await store.enqueue([entry(1), entry(2)])
        let first = try await store.claims(for: [entry(1).key])
        await store.acknowledge(first)
        await store.enqueue([entry(1)])
        let second = try await store.claims(for: [entry(2).key])
        await store.recordAttempt(second)
        await store.deadLetter([DeadLetter(entry: entry(2), reason: "x", at: Date())])
        #expect(await store.pending(limit: 10).map(\.externalId) == ["PAY-1"])
        #expect(await store.deadLetters.count == 1)
    }
}
