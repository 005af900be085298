#if PubSub
import Foundation
import SalesforceResiliencePubSub
import Testing

/// Avro's binary encoding, read from hand-made bytes: every type, the logical types Salesforce
/// uses, and every way a payload can be wrong.
@Suite struct AvroDecoderTests {
    func decode(_ bytes: [UInt8], _ schema: String, decoder: AvroDecoder = AvroDecoder()) throws -> AvroValue {
        try decoder.decode(bytes, as: try AvroSchema(json: schema))
    }

    @Test func integersAreZigZagVarints() throws {
        let ints: [([UInt8], Int32)] = [
            ([0x00], 0), ([0x01], -1), ([0x02], 1), ([0x7F], -64), ([0x80, 0x01], 64),
            ([0xFE, 0xFF, 0xFF, 0xFF, 0x0F], .max), ([0xFF, 0xFF, 0xFF, 0xFF, 0x0F], .min),
        ]
        for (bytes, value) in ints { #expect(try decode(bytes, #""int""#) == .int(value), "\(bytes)") }
        let longs: [([UInt8], Int64)] = [
            ([0x96, 0x01], 75), ([0xFE] + Array(repeating: 0xFF, count: 8) + [0x01], .max), (Array(repeating: 0xFF, count: 9) + [0x01], .min),
        ]
        for (bytes, value) in longs { #expect(try decode(bytes, #""long""#) == .long(value), "\(bytes)") }
        // Past the width of its type: six bytes for an int, a tenth byte over 1 for a long.
        #expect(throws: AvroDecodingError.invalidVarint(offset: 0)) { try decode([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], #""int""#) }
        #expect(throws: AvroDecodingError.invalidVarint(offset: 0)) { try decode([0xFF, 0xFF, 0xFF, 0xFF, 0x1F], #""int""#) }
        #expect(throws: AvroDecodingError.invalidVarint(offset: 0)) { try decode(Array(repeating: 0xFF, count: 9) + [0x02], #""long""#) }
        #expect(throws: AvroDecodingError.truncated(offset: 1)) { try decode([0x80], #""long""#) }
    }

    @Test func otherPrimitives() throws {
        #expect(try decode([], #""null""#) == .null)
        #expect(try decode([0x01], #""boolean""#) == .boolean(true))
        #expect(throws: AvroDecodingError.invalidBoolean(offset: 0)) { try decode([0x02], #""boolean""#) }
        #expect(try decode([0x00, 0x00, 0xC0, 0x3F], #""float""#) == .float(1.5))
        #expect(try decode([0, 0, 0, 0, 0, 0, 0, 0xC0], #""double""#) == .double(-2))
        #expect(try decode([0x0C] + Array("héllo".utf8), #""string""#) == .string("héllo"))
        #expect(try decode([0x04, 0xDE, 0xAD], #""bytes""#) == .bytes([0xDE, 0xAD]))
        #expect(throws: AvroDecodingError.invalidUTF8(offset: 0)) { try decode([0x02, 0xFF], #""string""#) }
        #expect(throws: AvroDecodingError.invalidLength(-1, offset: 0)) { try decode([0x01], #""string""#) }
        #expect(throws: AvroDecodingError.invalidLength(3, offset: 0)) { try decode([0x06, 0x41], #""bytes""#) }
        #expect(throws: AvroDecodingError.trailingBytes(count: 1)) { try decode([0x02, 0x41, 0x00], #""string""#) }
    }

    static let payment = """
        {"type": "record", "name": "Payment_Requested__e", "namespace": "com.sforce.eventbus", "fields": [
          {"name": "CreatedDate", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "EventUuid", "type": ["null", "string"], "default": null},
          {"name": "Amount__c", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 16, "scale": 2}], "default": null},
          {"name": "Status__c", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
          {"name": "Tags__c", "type": {"type": "array", "items": "string"}},
          {"name": "Attributes__c", "type": {"type": "map", "values": "long"}},
          {"name": "Digest__c", "type": {"type": "fixed", "name": "Digest", "size": 2}},
          {"name": "Next__c", "type": ["null", "Payment_Requested__e"]}
        ]}
        """

    @Test func aRecordWithEveryKindOfField() throws {
        var bytes: [UInt8] = [0x80, 0x80, 0x99, 0xFD, 0xDE, 0x66]   // 1765094400000 ms
        bytes += [0x02, 0x08] + Array("e-01".utf8)                  // union branch 1: string
        bytes += [0x02, 0x04, 0x30, 0x39]                           // branch 1: decimal 123.45
        bytes += [0x02]                                             // PAID
        bytes += [0x03, 0x08, 0x02, 0x61, 0x02, 0x62, 0x00]         // a block of -2 items (8 bytes), then the end
        bytes += [0x02, 0x02, 0x6B, 0x54, 0x00]                     // {"k": 42}
        bytes += [0xAB, 0xCD]                                       // fixed
        bytes += [0x00]                                             // Next__c: null
        let value = try decode(bytes, Self.payment)
        #expect(value["CreatedDate"] == .timestampMillis(1_765_094_400_000))
        #expect(value["CreatedDate"]?.dateValue == Date(timeIntervalSince1970: 1_765_094_400))
        #expect(value["EventUuid"] == .string("e-01"))
        #expect(value["Amount__c"] == .decimal(Decimal(string: "123.45")!))
        #expect(value["Status__c"] == .enumeration("PAID"))
        #expect(value["Tags__c"] == .array([.string("a"), .string("b")]))
        #expect(value["Attributes__c"] == .map(["k": .long(42)]))
        #expect(value["Digest__c"] == .fixed([0xAB, 0xCD]))
        #expect(value["Next__c"] == .null)
        guard case .record(let record) = value else { Issue.record("not a record"); return }
        #expect(record.name == "com.sforce.eventbus.Payment_Requested__e")
        #expect(record.names.first == "CreatedDate" && record.names.count == 8)
        #expect(value.jsonValue.objectValue?["Amount__c"] == .number(123.45))
        #expect(value.jsonValue.objectValue?["CreatedDate"] == .number(1_765_094_400_000))
    }

    @Test func decimalsAreTwosComplementBigEndian() throws {
        let schema = #"{"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}"#
        #expect(try decode([0x02, 0xFF], schema) == .decimal(Decimal(string: "-0.01")!))
        #expect(try decode([0x04, 0xCF, 0xC7], schema) == .decimal(Decimal(string: "-123.45")!))
        #expect(try decode([0x00], schema) == .decimal(0))
        // 17 bytes do not fit a Decimal: the bytes stay as they are.
        #expect(try decode([0x22] + Array(repeating: 0x7F, count: 17), schema) == .bytes(Array(repeating: 0x7F, count: 17)))
    }

    @Test func indexesOutOfRangeAreErrors() throws {
        #expect(throws: AvroDecodingError.indexOutOfRange(index: 2, count: 2, offset: 0)) { try decode([0x04], #"["null", "string"]"#) }
        #expect(throws: AvroDecodingError.indexOutOfRange(index: -1, count: 2, offset: 0)) { try decode([0x01], #"["null", "string"]"#) }
        #expect(throws: AvroDecodingError.indexOutOfRange(index: 5, count: 1, offset: 0)) {
            try decode([0x0A], #"{"type": "enum", "name": "E", "symbols": ["A"]}"#)
        }
    }

    @Test func hostilePayloadsStopAtTheirLimits() throws {
        // An array of nulls costs no bytes per item: only the item limit stops a huge count.
        let nulls = #"{"type": "array", "items": "null"}"#
        var huge: [UInt8] = []
        var count: UInt64 = 1 << 41   // zig-zag of 2^40
        while count >= 0x80 { huge.append(UInt8(count & 0x7F) | 0x80); count >>= 7 }
        huge += [UInt8(count), 0x00]
        #expect(throws: AvroDecodingError.tooManyItems(limit: 1_000_000)) { try decode(huge, nulls) }
        #expect(try decode([0x06, 0x00], nulls) == .array([.null, .null, .null]))
        // A self-referencing record nested past the depth limit.
        let list = #"{"type": "record", "name": "Node", "fields": [{"name": "next", "type": ["null", "Node"]}]}"#
        let deep = Array(repeating: UInt8(0x02), count: 40) + [0x00]
        #expect(try decode(deep, list, decoder: AvroDecoder(maxDepth: 200)) != .null)
        #expect(throws: AvroDecodingError.tooDeep(limit: 64)) { try decode(deep, list) }
        // A negative block count whose byte size points past the end.
        #expect(throws: AvroDecodingError.invalidLength(100, offset: 1)) { try decode([0x01, 0xC8, 0x01], #"{"type": "array", "items": "int"}"#) }
        // Cut anywhere, a valid payload fails as truncated, never as something else.
        let whole: [UInt8] = [0x02, 0x08] + Array("e-01".utf8)
        for cut in 0..<whole.count {
            #expect(throws: AvroDecodingError.self) { try decode(Array(whole.prefix(cut)), #"["null", "string"]"#) }
        }
    }

    @Test func encodedValuesDecodeToThemselves() throws {
        let schema = try AvroSchema(json: Self.payment)
        let inner = AvroValue.record(AvroRecord(
            name: "com.sforce.eventbus.Payment_Requested__e",
            names: ["CreatedDate", "EventUuid", "Amount__c", "Status__c", "Tags__c", "Attributes__c", "Digest__c", "Next__c"],
            values: [.timestampMillis(.max), .null, .decimal(Decimal(string: "-99999.99")!), .enumeration("NEW"),
                     .array([]), .map(["a": .long(-1), "b": .long(.max)]), .fixed([0, 1]), .null]))
        guard case .record(var outer) = inner else { return }
        outer.values[1] = .string("ü-uuid")
        outer.values[7] = inner
        let value = AvroValue.record(outer)
        let bytes = try AvroEncoder().encode(value, as: schema)
        #expect(try AvroDecoder().decode(bytes, as: schema) == value)
        #expect(throws: AvroEncodingError.self) { try AvroEncoder().encode(.string("x"), as: schema) }
    }
}
#endif
