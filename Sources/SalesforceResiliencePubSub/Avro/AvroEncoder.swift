#if PubSub // the package trait that brings this module
import Foundation

/// Writes Avro's binary encoding: what a Pub/Sub simulator serves and what the decoder's tests
/// and fuzz target read back. A union takes the first branch that accepts the value.
public struct AvroEncoder: Sendable {
    /// Creates an encoder.
    public init() {}

    /// Encodes `value` as `schema`'s root type.
    ///
    /// - Throws: ``AvroEncodingError`` when the value does not fit the schema.
    public func encode(_ value: AvroValue, as schema: AvroSchema) throws -> [UInt8] {
        var output: [UInt8] = []
        try Self.write(value, of: schema.root, in: schema, to: &output, depth: 0)
        return output
    }

    private static func write(_ value: AvroValue, of position: Int, in schema: AvroSchema, to output: inout [UInt8], depth: Int) throws {
        guard depth < 256 else { throw AvroEncodingError.mismatch("nested more than 256 deep") }
        let type = schema[position]
        switch (type.kind, value) {
        case (.null, .null): return
        case (.boolean, .boolean(let flag)): output.append(flag ? 1 : 0)
        case (.int, .int(let number)): writeLong(Int64(number), to: &output)
        case (.long, .long(let number)): writeLong(number, to: &output)
        case (.long, .timestampMillis(let number)), (.long, .timestampMicros(let number)): writeLong(number, to: &output)
        case (.float, .float(let number)): writeLittleEndian(UInt64(number.bitPattern), width: 4, to: &output)
        case (.double, .double(let number)): writeLittleEndian(number.bitPattern, width: 8, to: &output)
        case (.bytes, .bytes(let bytes)):
            writeLong(Int64(bytes.count), to: &output)
            output += bytes
        case (.bytes, .decimal(let decimal)):
            guard case .decimal(_, let scale) = type.logicalType, let bytes = unscaledBytes(decimal, scale: scale, width: nil) else {
                throw AvroEncodingError.mismatch("a decimal for bytes without a decimal logical type, or out of range")
            }
            writeLong(Int64(bytes.count), to: &output)
            output += bytes
        case (.string, .string(let text)):
            writeLong(Int64(text.utf8.count), to: &output)
            output += Array(text.utf8)
        case (.fixed(_, let size), .fixed(let bytes)):
            guard bytes.count == size else { throw AvroEncodingError.mismatch("\(bytes.count) bytes for a fixed of \(size)") }
            output += bytes
        case (.fixed(_, let size), .decimal(let decimal)):
            guard case .decimal(_, let scale) = type.logicalType, let bytes = unscaledBytes(decimal, scale: scale, width: size) else {
                throw AvroEncodingError.mismatch("a decimal that does not fit fixed(\(size))")
            }
            output += bytes
        case (.enumeration(let name, let symbols), .enumeration(let symbol)):
            guard let index = symbols.firstIndex(of: symbol) else { throw AvroEncodingError.mismatch("'\(symbol)' is not a symbol of \(name)") }
            writeLong(Int64(index), to: &output)
        case (.record(let name, let fields), .record(let record)):
            for field in fields {
                guard let fieldValue = record[field.name] else { throw AvroEncodingError.mismatch("\(name) needs field \(field.name)") }
                try write(fieldValue, of: field.type, in: schema, to: &output, depth: depth + 1)
            }
        case (.array(let items), .array(let values)):
            if !values.isEmpty {
                writeLong(Int64(values.count), to: &output)
                for item in values { try write(item, of: items, in: schema, to: &output, depth: depth + 1) }
            }
            output.append(0)
        case (.map(let valueType), .map(let entries)):
            if !entries.isEmpty {
                writeLong(Int64(entries.count), to: &output)
                for key in entries.keys.sorted() {
                    writeLong(Int64(key.utf8.count), to: &output)
                    output += Array(key.utf8)
                    try write(entries[key]!, of: valueType, in: schema, to: &output, depth: depth + 1)
                }
            }
            output.append(0)
        case (.union(let branches), _):
            for (index, branch) in branches.enumerated() where accepts(schema[branch], value) {
                writeLong(Int64(index), to: &output)
                return try write(value, of: branch, in: schema, to: &output, depth: depth + 1)
            }
            throw AvroEncodingError.mismatch("no branch of the union takes \(value)")
        default:
            throw AvroEncodingError.mismatch("\(value) does not fit \(type.kind)")
        }
    }

    /// Whether a union branch of `type` is the one for `value`.
    private static func accepts(_ type: AvroType, _ value: AvroValue) -> Bool {
        switch (type.kind, value) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.float, .float), (.double, .double),
             (.bytes, .bytes), (.string, .string), (.array, .array), (.map, .map), (.fixed, .fixed), (.long, .timestampMillis),
             (.long, .timestampMicros):
            return true
        case (.bytes, .decimal), (.fixed, .decimal):
            if case .decimal = type.logicalType { return true }
            return false
        case (.enumeration(_, let symbols), .enumeration(let symbol)):
            return symbols.contains(symbol)
        case (.record(let name, _), .record(let record)):
            return name == record.name
        default:
            return false
        }
    }

    static func writeLong(_ value: Int64, to output: inout [UInt8]) {
        var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while raw >= 0x80 {
            output.append(UInt8(raw & 0x7F) | 0x80)
            raw >>= 7
        }
        output.append(UInt8(raw))
    }

    private static func writeLittleEndian(_ value: UInt64, width: Int, to output: inout [UInt8]) {
        for index in 0..<width { output.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    /// The unscaled value of `decimal` at `scale`, two's complement big-endian: as few bytes as
    /// hold it, or exactly `width`.
    private static func unscaledBytes(_ decimal: Decimal, scale: Int, width: Int?) -> [UInt8]? {
        var scaled = decimal * Decimal(sign: .plus, exponent: scale, significand: 1)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &scaled, 0, .plain)
        guard rounded == scaled, let unscaled = Int128(NSDecimalNumber(decimal: rounded).stringValue) else { return nil }
        var bytes: [UInt8] = (0..<16).map { UInt8(truncatingIfNeeded: unscaled >> (8 * (15 - $0))) }
        // Drop leading bytes that only repeat the sign.
        while bytes.count > 1, (bytes[0] == 0 && bytes[1] & 0x80 == 0) || (bytes[0] == 0xFF && bytes[1] & 0x80 != 0) { bytes.removeFirst() }
        guard let width else { return bytes }
        guard bytes.count <= width else { return nil }
        return Array(repeating: unscaled < 0 ? 0xFF : 0, count: width - bytes.count) + bytes
    }
}

/// A value that does not fit the schema it was to be encoded as.
public enum AvroEncodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What did not fit.
    case mismatch(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .mismatch(let detail): "Avro value does not fit its schema: \(detail)"
        }
    }
}
#endif
