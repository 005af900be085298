#if PubSub
import Foundation
import SalesforceResiliencePubSub
import Testing

/// Schema JSON as `GetSchema` returns it, and the schemas the specification refuses.
@Suite struct AvroSchemaTests {
    @Test func namesResolveThroughNamespaces() throws {
        let schema = try AvroSchema(json: """
            {"type": "record", "name": "Outer", "namespace": "a.b", "fields": [
              {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [{"name": "x", "type": "int"}]}},
              {"name": "again", "type": "Inner"},
              {"name": "full", "type": "a.b.Inner"},
              {"name": "other", "type": {"type": "enum", "name": "c.Kind", "symbols": ["A"]}},
              {"name": "kind", "type": "c.Kind"}
            ]}
            """)
        let kinds = schema.fields.map { schema[$0.type].kind }
        guard case .record(let name, _) = kinds[0] else { Issue.record("not a record"); return }
        #expect(name == "a.b.Inner")
        #expect(schema.fields[1].type == schema.fields[0].type && schema.fields[2].type == schema.fields[0].type)
        #expect(schema.fields[4].type == schema.fields[3].type)
        #expect(schema.fields.map(\.name) == ["inner", "again", "full", "other", "kind"])
    }

    @Test func logicalTypesThatDoNotFitAreIgnored() throws {
        func logical(_ json: String) throws -> AvroLogicalType? { try AvroSchema(json: json).rootType.logicalType }
        #expect(try logical(#"{"type": "long", "logicalType": "timestamp-millis"}"#) == .timestampMillis)
        #expect(try logical(#"{"type": "int", "logicalType": "timestamp-millis"}"#) == nil)
        #expect(try logical(#"{"type": "int", "logicalType": "date"}"#) == .date)
        #expect(try logical(#"{"type": "string", "logicalType": "uuid"}"#) == .uuid)
        #expect(try logical(#"{"type": "bytes", "logicalType": "decimal", "precision": 4}"#) == .decimal(precision: 4, scale: 0))
        #expect(try logical(#"{"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 5}"#) == nil)
        #expect(try logical(#"{"type": "fixed", "name": "F", "size": 8, "logicalType": "decimal", "precision": 18, "scale": 3}"#) == .decimal(precision: 18, scale: 3))
        #expect(try logical(#"{"type": "long", "logicalType": "something-new"}"#) == nil)
    }

    @Test func schemasTheSpecificationRefuses() {
        let refused: [(String, AvroSchemaError)] = [
            ("not json", .invalidJSON("")),
            (#""Missing""#, .unknownType("Missing")),
            (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "R2"}]}"#, .unknownType("R2")),
            (#"["null", ["int"]]"#, .invalid("")),
            (#"[]"#, .invalid("")),
            (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": {"type": "enum", "name": "R", "symbols": []}}]}"#, .duplicateName("R")),
            (#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]}"#, .invalid("")),
            (#"{"type": "enum", "name": "E", "symbols": ["A", "A"]}"#, .invalid("")),
            (#"{"type": "fixed", "name": "F", "size": -1}"#, .invalid("")),
            (#"{"type": "array"}"#, .invalid("")),
            (#"{"type": "record", "fields": []}"#, .invalid("")),
            (#"42"#, .invalid("")),
        ]
        for (json, expected) in refused {
            do {
                _ = try AvroSchema(json: json)
                Issue.record("accepted: \(json)")
            } catch let error as AvroSchemaError {
                switch (error, expected) {
                case (.invalidJSON, .invalidJSON), (.invalid, .invalid): break
                default: #expect(error == expected, "\(json)")
                }
            } catch {
                Issue.record("\(json): \(error)")
            }
        }
        // Nesting past the limit is refused, not a stack overflow.
        let deep = String(repeating: #"{"type": "array", "items": "#, count: 100) + #""int""# + String(repeating: "}", count: 100)
        #expect(throws: AvroSchemaError.self) { try AvroSchema(json: deep) }
    }

    @Test func aTypeTableMustBeClosed() {
        #expect(throws: AvroSchemaError.self) { try AvroSchema(types: [AvroType(.array(items: 3))], root: 0) }
        #expect(throws: AvroSchemaError.self) { try AvroSchema(types: [AvroType(.int)], root: 1) }
    }
}

/// The hexadecimal bitmaps of a change event's header, read as field names.
@Suite struct ChangeEventBitmapTests {
    /// 32 top-level fields; field 4 is an optional Name record, field 7 an Address record.
    static let schema: AvroSchema = {
        var fields = (0..<32).map { #"{"name": "F\#($0)", "type": ["null", "string"]}"# }
        fields[4] = #"{"name": "Name", "type": ["null", {"type": "record", "name": "Name", "fields": [{"name": "Salutation", "type": ["null", "string"]}, {"name": "FirstName", "type": ["null", "string"]}, {"name": "LastName", "type": ["null", "string"]}, {"name": "MiddleName", "type": ["null", "string"]}, {"name": "Suffix", "type": ["null", "string"]}]}]}"#
        fields[7] = #"{"name": "BillingAddress", "type": {"type": "record", "name": "Address", "fields": [{"name": "Street", "type": "string"}, {"name": "City", "type": "string"}, {"name": "State", "type": "string"}]}}"#
        return try! AvroSchema(json: #"{"type": "record", "name": "AccountChangeEvent", "fields": [\#(fields.joined(separator: ","))]}"#)
    }()

    @Test func topLevelAndCompoundBitsNameTheirFields() throws {
        // 0x650004E0: bits 5, 6, 7, 10, 24, 26, 29, 30.
        let names = try ChangeEventBitmap.fieldNames(["0x650004E0", "4-0x10", "7-0x06"], in: Self.schema)
        #expect(names == ["F5", "F6", "BillingAddress", "F10", "F24", "F26", "F29", "F30", "Name.Suffix", "BillingAddress.City", "BillingAddress.State"])
        #expect(try ChangeEventBitmap.fieldNames([], in: Self.schema) == [])
        #expect(try ChangeEventBitmap.fieldNames(["0x1"], in: Self.schema) == ["F0"])
        #expect(try ChangeEventBitmap.fieldNames(["0x00000000000000"], in: Self.schema) == [])
    }

    @Test func bitmapsThatDoNotFitTheSchemaAreErrors() {
        #expect(throws: ChangeEventBitmapError.malformed("0xZZ")) { try ChangeEventBitmap.fieldNames(["0xZZ"], in: Self.schema) }
        #expect(throws: ChangeEventBitmapError.malformed("0x")) { try ChangeEventBitmap.fieldNames(["0x"], in: Self.schema) }
        #expect(throws: ChangeEventBitmapError.malformed("x-0x1")) { try ChangeEventBitmap.fieldNames(["x-0x1"], in: Self.schema) }
        #expect(throws: ChangeEventBitmapError.bitPastLastField("0x100000000", bit: 32, fields: 32)) {
            try ChangeEventBitmap.fieldNames(["0x100000000"], in: Self.schema)
        }
        #expect(throws: ChangeEventBitmapError.notACompoundField("3-0x1")) { try ChangeEventBitmap.fieldNames(["3-0x1"], in: Self.schema) }
        #expect(throws: ChangeEventBitmapError.notACompoundField("99-0x1")) { try ChangeEventBitmap.fieldNames(["99-0x1"], in: Self.schema) }
        #expect(throws: ChangeEventBitmapError.bitPastLastField("0x20", bit: 5, fields: 5)) { try ChangeEventBitmap.fieldNames(["4-0x20"], in: Self.schema) }
    }
}
#endif
