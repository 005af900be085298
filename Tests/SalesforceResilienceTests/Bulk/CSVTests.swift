import Foundation
@testable import SalesforceResilience
import Testing

@Suite struct CSVTests {
    static let hostile = [
        "plain", "with,comma", "with \"quotes\"", "line\nbreak", "crlf\r\nbreak", " leading", "trailing ", "",
        "emoji 💸✓ and ünïcödé", "\"", ",", "a\"\"b", "#N/A", "=SUM(A1)",
        // A quote or comma that starts a Character with a combining mark (found by fuzzing).
        "s\"\"\"aa\"\u{07A8}\"a", "\"\u{0301}", "a,\u{200D}b",
    ]

    @Test(arguments: hostile)
    func hostileValuesRoundTrip(value: String) throws {
        let rows = [["Reference__c", "Note__c"], ["PAY-1", value], [value, "x"]]
        #expect(try CSV.parse(CSV.encode(rows)) == rows)
    }

    @Test func quotingIsMinimalAndFollowsRFC4180() {
        #expect(CSV.field("plain") == "plain")
        #expect(CSV.field("a,b") == "\"a,b\"")
        #expect(CSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.field("two\nlines") == "\"two\nlines\"")
        #expect(CSV.field(" pad") == "\" pad\"")
        #expect(CSV.encode([["a", "b"], ["1", "2"]]) == "a,b\n1,2\n")
        #expect(CSV.field("x\"\u{0301}") == "\"x\"\"\u{0301}\"")
    }

    @Test func crlfAndAMissingFinalNewlineAreAccepted() throws {
        #expect(try CSV.parse("a,b\r\n1,2\r\n3,4") == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(try CSV.parse("") == [])
        #expect(try CSV.parse("a\n\nb\n") == [["a"], [""], ["b"]])
    }

    @Test func malformedCSVIsATypedErrorWithTheLine() {
        #expect(throws: CSV.ParseError.self) { try CSV.parse("a,b\n1,\"unterminated\n") }
        let error = #expect(throws: CSV.ParseError.self) { try CSV.parse("a,b\n\"x\"y,2\n") }
        #expect(error?.line == 2)
        #expect(throws: CSV.ParseError.self) { try CSV.parseRecords("a,b\n1,2,3\n") }
    }

    @Test func recordsAreKeyedByTheHeader() throws {
        let (header, records) = try CSV.parseRecords("sf__Id,sf__Created,Name\n001,true,\"Acme, Inc\"\n")
        #expect(header == ["sf__Id", "sf__Created", "Name"])
        #expect(records == [["sf__Id": "001", "sf__Created": "true", "Name": "Acme, Inc"]])
    }

    struct Row: Encodable {
        enum Kind: String, Encodable { case card }
        var Reference__c: String
        var Amount__c: Double
        var Count__c: Int
        var Paid__c: Bool
        var Note__c: String?
        var When__c: Date
        var Kind__c: Kind
    }

    @Test func encodableRecordsBecomeColumns() throws {
        let row = Row(Reference__c: "PAY-1", Amount__c: 12.5, Count__c: 3, Paid__c: true, Note__c: nil, When__c: Date(timeIntervalSince1970: 0), Kind__c: .card)
        let columns = try CSVRecordEncoder.columns(of: row)
        // A nil optional is left out: its cell stays empty, which Bulk API reads as "unchanged".
        #expect(columns.map(\.0) == ["Reference__c", "Amount__c", "Count__c", "Paid__c", "When__c", "Kind__c"])
        #expect(columns.map(\.1) == ["PAY-1", "12.5", "3", "true", "1970-01-01T00:00:00Z", "card"])
    }

    @Test func nestedValuesAreRefused() {
        struct Nested: Encodable { var Inner: [String: Int] }
        struct Listed: Encodable { var Items: [Int] }
        #expect(throws: (any Error).self) { try CSVRecordEncoder.columns(of: Nested(Inner: ["a": 1])) }
        #expect(throws: (any Error).self) { try CSVRecordEncoder.columns(of: Listed(Items: [1])) }
    }
}
