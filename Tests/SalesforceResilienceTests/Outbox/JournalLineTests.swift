import Foundation
@testable import SalesforceResilience
import Testing

/// Journal lines as this library writes and reads them without Foundation's coders: the same
/// JSON Foundation writes for a change, lines Foundation wrote (older journals) still read, and
/// entries kept compact in memory come back whole.
@Suite struct JournalLineTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-lines-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// ``OutboxChange`` as the library encoded it with `JSONEncoder` before it wrote lines itself.
    enum CodedChange: Codable {
        case enqueue([OutboxEntry])
        case acknowledge([String])
        case attempt([String])
        case deadLetter([String])
        case metadata([String: String])
    }

    static let entries = [
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-1",
                    fields: ["Amount__c": 12.5, "Note__c": "quote \" and\nnewline, café 😀", "Paid__c": true, "Memo__c": nil,
                             "Lines__c": .array([.object(["n": 1])])],
                    enqueuedAt: Date(timeIntervalSince1970: 1_767_225_600.123), attempts: 3, group: "ACME/1"),
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY/2 ü", fields: [:], enqueuedAt: Date(timeIntervalSince1970: 0)),
    ]

    func replayed(_ lines: [Data]) throws -> JournalFormat.Replay {
        var data = JournalFormat.header
        for line in lines { data.append(ChecksummedLine.encode(line)) }
        return try JournalFormat.replay(data, path: "test")
    }

    @Test func itWritesWhatFoundationReadsAsTheSameChange() throws {
        let json = try JournalFormat.json(.enqueue(Self.entries.map(StoredEntry.init)))
        guard case .enqueue(let decoded) = try JSONDecoder().decode(CodedChange.self, from: Data(json)) else {
            Issue.record("not an enqueue")
            return
        }
        #expect(decoded == Self.entries)
        let keys = try JournalFormat.json(.acknowledge(["Payment__c/Reference__c/PAY-1"]))
        guard case .acknowledge(let acknowledged) = try JSONDecoder().decode(CodedChange.self, from: Data(keys)) else {
            Issue.record("not an acknowledgement")
            return
        }
        #expect(acknowledged == ["Payment__c/Reference__c/PAY-1"])
    }

    @Test func aJournalFoundationWroteReplaysWithEveryFieldWhole() throws {
        let encoder = JSONEncoder()
        let replay = try replayed([
            try encoder.encode(CodedChange.metadata(["org": "acme"])),
            try encoder.encode(CodedChange.enqueue(Self.entries)),
            try encoder.encode(CodedChange.attempt([Self.entries[0].key])),
        ])
        var expected = Self.entries
        expected[0].attempts += 1
        #expect(replay.state.pending(limit: 10).map { entry in
            var entry = entry
            entry.version = 0
            return entry
        } == expected)
        #expect(replay.metadata == ["org": "acme"])
    }

    @Test func membersInAnotherOrderOrUnknownOnesStillReplay() throws {
        let reordered = #"{"enqueue":{"_0":[{"fields":{"Amount__c":1},"attempts":0,"externalId":"PAY-9","enqueuedAt":0,"#
            + #""externalIdField":"Reference__c","sobject":"Payment__c","group":null}]}}"#
        let unknown = #"{"enqueue":{"_0":[{"sobject":"Payment__c","externalIdField":"Reference__c","externalId":"PAY-10","#
            + #""fields":{},"enqueuedAt":0,"attempts":0,"addedLater":"x"}]}}"#
        let replay = try replayed([Data(reordered.utf8), Data(unknown.utf8)])
        #expect(replay.state.pending(limit: 10).map(\.externalId) == ["PAY-9", "PAY-10"])
        #expect(replay.state.pending(limit: 1).first?.fields == ["Amount__c": 1])
    }

    @Test func aLineThatIsNoChangeIsCorruptForBothReaders() throws {
        for text in [#"{"enqueue":{"_0":[{"sobject":"Payment__c"}]}}"#, #"{"forget":{"_0":[]}}"#, #"{"acknowledge":{"_0":[1]}}"#,
                     #"{"enqueue":{"_0":[]}} trailing"#] {
            #expect(throws: FileJournalOutboxStore.JournalError.self, "\(text)") { try replayed([Data(text.utf8)]) }
        }
    }

    @Test func fieldsJSONCannotCarryStayInMemoryButNeverReachTheJournal() async throws {
        let odd = OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-NaN", fields: ["Amount__c": .number(.nan)],
                              enqueuedAt: Date(timeIntervalSince1970: 0))
        let memory = InMemoryOutboxStore()
        await memory.enqueue([odd])
        #expect(await memory.pending(limit: 1).first?.fields["Amount__c"]?.numberValue?.isNaN == true)

        let store = try FileJournalOutboxStore(path: directory.appendingPathComponent("nan.journal").path)
        await #expect(throws: JSONBytes.InvalidNumber.self) { try await store.enqueue([odd]) }
        #expect(await store.backlog().count == 0, "a change that cannot be written is not applied")
    }
}
