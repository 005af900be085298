import Foundation
@testable import SalesforceResilience
import Testing

/// The journal's own JSON: what it writes reads back as the same value, it reads what Foundation
/// reads, and it refuses what is not JSON, in the value parser and the skipping scanner alike.
@Suite struct JSONBytesTests {
    static let values: [JSONValue] = [
        .string(""), .string("plain"), .string("quote \" backslash \\ slash / tab \t newline \n return \r bell \u{07} nul \u{0}"),
        .string("café, 東京, 😀 and a combining e\u{301}"), .number(0), .number(-0.0), .number(12.5), .number(-1e-7), .number(1e300),
        .number(123_456_789_012_345_680), .number(Double.leastNonzeroMagnitude), .bool(true), .bool(false), .null,
        .array([]), .array([.number(1), .string("two"), .null, .array([.bool(false)])]),
        .object([:]), .object(["Amount__c": .number(12.5), "Customer__c": .string("CUST-1"), "nested": .object(["a": .array([.null])])]),
    ]

    @Test(arguments: values) func whatItWritesReadsBackAsTheSameValue(_ value: JSONValue) throws {
        var bytes: [UInt8] = []
        try JSONBytes.write(value, to: &bytes)
        #expect(JSONBytes.parse(bytes) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) == value, "Foundation reads it as the same value")
    }

    @Test(arguments: values) func itReadsWhatFoundationWrites(_ value: JSONValue) throws {
        let encoder = JSONEncoder()
        for formatting in [JSONEncoder.OutputFormatting(), [.prettyPrinted, .sortedKeys]] {
            encoder.outputFormatting = formatting
            #expect(JSONBytes.parse(try encoder.encode(value)) == value)
        }
    }

    @Test func escapesReadAsTheirCharacters() {
        #expect(JSONBytes.parse(Array(#""\u00e9\ud83d\ude00\/\b\f""#.utf8)) == .string("é😀/\u{08}\u{0C}"))
        #expect(JSONBytes.parse(Array(#" { "a" : [ 1 , 2 ] } "#.utf8)) == .object(["a": .array([.number(1), .number(2)])]))
    }

    static let notJSON = [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "1e400",
        "\"unterminated", "\"bad \\x escape\"", "\"raw\ncontrol\"", "\"\\ud83d alone\"", "\"\\ude00 low alone\"", "\"\\u12\"",
        "tru", "nul", "[1] [2]", "{\"a\":1}}", String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
    ]

    @Test(arguments: notJSON) func itRefusesWhatIsNotJSON(_ text: String) {
        #expect(JSONBytes.parse(Array(text.utf8)) == nil)
        let skipped = Array(text.utf8).withUnsafeBytes { buffer -> Bool in
            var scanner = JSONScanner(buffer)
            return scanner.skipValue() != nil && scanner.atEnd
        }
        #expect(!skipped, "the skipping scanner must refuse what the parser refuses")
    }

    @Test func skippingGivesTheValuesBytes() {
        let text = Array(#"{"fields":{"a":"}","b":[1,{"c":null}]},"next":1}"#.utf8)
        text.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            var range: Range<Int>?
            _ = scanner.object { scanner, key in
                if key == "fields" { range = scanner.skipValue() } else { _ = scanner.skipValue() }
                return true
            }
            #expect(range.map { String(decoding: text[$0], as: UTF8.self) } == #"{"a":"}","b":[1,{"c":null}]}"#)
        }
    }

    @Test func aNumberJSONCannotCarryIsRefusedWhenWritten() {
        var bytes: [UInt8] = []
        #expect(throws: JSONBytes.InvalidNumber.self) { try JSONBytes.write(.array([.number(.nan)]), to: &bytes) }
        #expect(throws: JSONBytes.InvalidNumber.self) { try JSONBytes.write(.number(.infinity), to: &bytes) }
    }
}
