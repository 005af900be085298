#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

/// A decoded Avro value. A union's value is its branch's value; logical types refine the value
/// they annotate (``timestampMillis(_:)``, ``decimal(_:)``), others keep their underlying form.
public indirect enum AvroValue: Sendable, Hashable {
    /// `null`.
    case null
    /// A `boolean`.
    case boolean(Bool)
    /// An `int` (also a `date`, in days, and a `time-millis`).
    case int(Int32)
    /// A `long` (also a `time-micros`).
    case long(Int64)
    /// A `float`.
    case float(Float)
    /// A `double`.
    case double(Double)
    /// `bytes`.
    case bytes([UInt8])
    /// A `string` (also a `uuid`).
    case string(String)
    /// A `record`: its fields in schema order.
    case record(AvroRecord)
    /// An `enum`'s symbol.
    case enumeration(String)
    /// An `array`.
    case array([AvroValue])
    /// A `map`.
    case map([String: AvroValue])
    /// A `fixed`.
    case fixed([UInt8])
    /// A `timestamp-millis` `long`: milliseconds since the Unix epoch (``dateValue`` reads it).
    case timestampMillis(Int64)
    /// A `timestamp-micros` `long`: microseconds since the Unix epoch (``dateValue`` reads it).
    case timestampMicros(Int64)
    /// A `decimal`, when its unscaled value fits 38 digits; otherwise it stays ``bytes(_:)``
    /// or ``fixed(_:)``.
    case decimal(Decimal)

    /// The field `name` of a record; `nil` for anything else.
    public subscript(name: String) -> AvroValue? {
        guard case .record(let record) = self else { return nil }
        return record[name]
    }

    /// The text of a `string` or an enum symbol.
    public var stringValue: String? {
        switch self {
        case .string(let text), .enumeration(let text): text
        default: nil
        }
    }

    /// An `int`, a `long` or a timestamp as a 64-bit integer.
    public var integerValue: Int64? {
        switch self {
        case .int(let value): Int64(value)
        case .long(let value), .timestampMillis(let value), .timestampMicros(let value): value
        default: nil
        }
    }

    /// A timestamp as a `Date` (to the precision a `Date` holds).
    public var dateValue: Date? {
        switch self {
        case .timestampMillis(let value): Date(timeIntervalSince1970: Double(value) / 1_000)
        case .timestampMicros(let value): Date(timeIntervalSince1970: Double(value) / 1_000_000)
        default: nil
        }
    }

    /// The value as JSON, for code that already reads ``JSONValue``: records and maps become
    /// objects, bytes and fixed become base64 text, a timestamp its whole milliseconds since
    /// the epoch, a decimal its number.
    public var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case .boolean(let flag): .bool(flag)
        case .int(let value): .number(Double(value))
        case .long(let value): .number(Double(value))
        case .float(let value): .number(Double(value))
        case .double(let value): .number(value)
        case .bytes(let bytes), .fixed(let bytes): .string(Data(bytes).base64EncodedString())
        case .string(let text), .enumeration(let text): .string(text)
        case .record(let record): .object(Dictionary(zip(record.names, record.values.map(\.jsonValue)), uniquingKeysWith: { $1 }))
        case .array(let items): .array(items.map(\.jsonValue))
        case .map(let entries): .object(entries.mapValues(\.jsonValue))
        case .timestampMillis(let value): .number(Double(value))
        case .timestampMicros(let value): .number((Double(value) / 1_000).rounded(.down))
        case .decimal(let decimal): .number(NSDecimalNumber(decimal: decimal).doubleValue)
        }
    }
}

/// A decoded Avro record: field names and values, in schema order.
public struct AvroRecord: Sendable, Hashable {
    /// The record's full name.
    public var name: String
    /// The field names, in schema order.
    public var names: [String]
    /// The values, in the order of ``names``.
    public var values: [AvroValue]

    /// Creates a record.
    public init(name: String, names: [String], values: [AvroValue]) {
        self.name = name
        self.names = names
        self.values = values
    }

    /// The value of field `name`.
    public subscript(name: String) -> AvroValue? {
        names.firstIndex(of: name).map { values[$0] }
    }
}
#endif
