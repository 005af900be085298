import Foundation

/// Turns a flat `Encodable` record into CSV column values.
///
/// Strings stay as they are; numbers use their shortest exact form; booleans are `true`/`false`;
/// dates are ISO 8601 in UTC. A `nil` optional is left out, so its cell is empty, which Bulk API
/// reads as "leave unchanged" on update (as REST treats an omitted field); to set a field to null,
/// give it the string `#N/A`. Nested values are refused: Bulk API rows are flat.
enum CSVRecordEncoder {
    /// Bulk API's marker for "set this field to null".
    static let null = "#N/A"

    struct Unsupported: Error, CustomStringConvertible {
        let description: String
    }

    /// The columns of `record`, in the order its `encode(to:)` wrote them.
    static func columns<Record: Encodable>(of record: Record) throws -> [(String, String)] {
        let encoder = FlatEncoder()
        try record.encode(to: encoder)
        return encoder.storage.columns
    }

    final class Storage {
        var columns: [(String, String)] = []
    }

    struct FlatEncoder: Encoder {
        let storage = Storage()
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(Keyed<Key>(storage: storage))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer { Refusing(codingPath: codingPath) }
        func singleValueContainer() -> any SingleValueEncodingContainer { Refusing(codingPath: codingPath) }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: Storage
        var codingPath: [any CodingKey] = []

        mutating func encodeNil(forKey key: Key) throws { storage.columns.append((key.stringValue, CSVRecordEncoder.null)) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { storage.columns.append((key.stringValue, value ? "true" : "false")) }
        mutating func encode(_ value: String, forKey key: Key) throws { storage.columns.append((key.stringValue, value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws {
            guard value.isFinite else { throw Unsupported(description: "\(key.stringValue): non-finite number") }
            storage.columns.append((key.stringValue, value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"))
        }
        mutating func encode(_ value: Float, forKey key: Key) throws { try encode(Double(value), forKey: key) }
        mutating func encode(_ value: Int, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { storage.columns.append((key.stringValue, String(value))) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            switch value {
            case let date as Date:
                storage.columns.append((key.stringValue, SOQL.dateTimeLiteral(date)))
            case let decimal as Decimal:
                storage.columns.append((key.stringValue, "\(decimal)"))
            case let url as URL:
                storage.columns.append((key.stringValue, url.absoluteString))
            default:
                // Single-value wrappers (enums with raw values, Optional) encode through a probe.
                let probe = SingleProbe()
                try value.encode(to: probe)
                guard let text = probe.value else { throw Unsupported(description: "\(key.stringValue): nested values cannot be a CSV column") }
                storage.columns.append((key.stringValue, text))
            }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keyed<NestedKey>(storage: Storage()))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { Refusing(codingPath: codingPath) }
        mutating func superEncoder() -> any Encoder { FlatEncoder() }
        mutating func superEncoder(forKey key: Key) -> any Encoder { FlatEncoder() }
    }

    /// Captures a single primitive value.
    final class SingleProbe: Encoder, SingleValueEncodingContainer {
        var value: String?
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]
        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> { KeyedEncodingContainer(Keyed<Key>(storage: Storage())) }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { Refusing(codingPath: codingPath) }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }
        func encodeNil() throws { value = CSVRecordEncoder.null }
        func encode(_ value: Bool) throws { self.value = value ? "true" : "false" }
        func encode(_ value: String) throws { self.value = value }
        func encode(_ value: Double) throws { self.value = "\(value)" }
        func encode(_ value: Float) throws { self.value = "\(value)" }
        func encode(_ value: Int) throws { self.value = String(value) }
        func encode(_ value: Int8) throws { self.value = String(value) }
        func encode(_ value: Int16) throws { self.value = String(value) }
        func encode(_ value: Int32) throws { self.value = String(value) }
        func encode(_ value: Int64) throws { self.value = String(value) }
        func encode(_ value: UInt) throws { self.value = String(value) }
        func encode(_ value: UInt8) throws { self.value = String(value) }
        func encode(_ value: UInt16) throws { self.value = String(value) }
        func encode(_ value: UInt32) throws { self.value = String(value) }
        func encode(_ value: UInt64) throws { self.value = String(value) }
        func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
    }

    /// Refuses nested arrays: encoding throws when it is used.
    struct Refusing: UnkeyedEncodingContainer, SingleValueEncodingContainer {
        var codingPath: [any CodingKey]
        var count: Int { 0 }
        private func refuse() throws -> Never { throw Unsupported(description: "nested or unkeyed values cannot be a CSV column") }
        mutating func encodeNil() throws { try refuse() }
        mutating func encode<T: Encodable>(_ value: T) throws { try refuse() }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Keyed<NestedKey>(storage: Storage()))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
        mutating func superEncoder() -> any Encoder { FlatEncoder() }
    }
}
