#if PubSub // the package trait that brings this module
import Foundation

/// Reads Avro's binary encoding (the payload of a Pub/Sub API event) by a schema.
///
/// The input is untrusted: every length and count is checked against the bytes left before
/// anything is allocated for it, nesting is bounded by ``maxDepth`` and the items of every array
/// and map of one value together by ``maxItems`` (an array of `null` takes no bytes, so its
/// count alone cannot be trusted), and a payload must be read to its last byte.
public struct AvroDecoder: Sendable {
    /// The deepest nesting of records, arrays, maps and unions read. Default 64.
    public var maxDepth: Int
    /// The most array items and map entries one value may hold, all together. Default 1,000,000.
    public var maxItems: Int

    /// Creates a decoder.
    public init(maxDepth: Int = 64, maxItems: Int = 1_000_000) {
        self.maxDepth = max(1, maxDepth)
        self.maxItems = max(0, maxItems)
    }

    /// Decodes one value of `schema` that fills `payload` exactly.
    ///
    /// - Throws: ``AvroDecodingError``.
    public func decode(_ payload: some Collection<UInt8>, as schema: AvroSchema) throws -> AvroValue {
        var reader = AvroReader(bytes: Array(payload), schema: schema, maxDepth: maxDepth, maxItems: maxItems)
        let value = try reader.value(of: schema.root, depth: 0)
        guard reader.offset == reader.bytes.count else { throw AvroDecodingError.trailingBytes(count: reader.bytes.count - reader.offset) }
        return value
    }
}

/// A payload that does not decode by its schema.
public enum AvroDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The bytes ended inside a value, at this offset.
    case truncated(offset: Int)
    /// A variable-length integer longer than its type allows, at this offset.
    case invalidVarint(offset: Int)
    /// A boolean byte other than 0 or 1, at this offset.
    case invalidBoolean(offset: Int)
    /// A union branch or enum symbol index that the schema does not have, at this offset.
    case indexOutOfRange(index: Int64, count: Int, offset: Int)
    /// A negative length, or one past the bytes left, at this offset.
    case invalidLength(Int64, offset: Int)
    /// A string that is not UTF-8, at this offset.
    case invalidUTF8(offset: Int)
    /// Nested deeper than ``AvroDecoder/maxDepth``.
    case tooDeep(limit: Int)
    /// More array items and map entries than ``AvroDecoder/maxItems``.
    case tooManyItems(limit: Int)
    /// The value ended with bytes left over.
    case trailingBytes(count: Int)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .truncated(let offset): "Avro payload ends inside a value at byte \(offset)"
        case .invalidVarint(let offset): "Avro payload has an over-long integer at byte \(offset)"
        case .invalidBoolean(let offset): "Avro payload has a boolean that is neither 0 nor 1 at byte \(offset)"
        case .indexOutOfRange(let index, let count, let offset): "Avro payload names branch or symbol \(index) of \(count) at byte \(offset)"
        case .invalidLength(let length, let offset): "Avro payload has an impossible length \(length) at byte \(offset)"
        case .invalidUTF8(let offset): "Avro payload has a string that is not UTF-8 at byte \(offset)"
        case .tooDeep(let limit): "Avro payload nests more than \(limit) deep"
        case .tooManyItems(let limit): "Avro payload holds more than \(limit) array items and map entries"
        case .trailingBytes(let count): "Avro payload has \(count) bytes after its value"
        }
    }
}

/// The read position in one payload.
struct AvroReader {
    let bytes: [UInt8]
    let schema: AvroSchema
    let maxDepth: Int
    let maxItems: Int
    var itemsLeft: Int
    var offset = 0

    init(bytes: [UInt8], schema: AvroSchema, maxDepth: Int, maxItems: Int) {
        self.bytes = bytes
        self.schema = schema
        self.maxDepth = maxDepth
        self.maxItems = maxItems
        self.itemsLeft = maxItems
    }

    mutating func value(of position: Int, depth: Int) throws -> AvroValue {
        let type = schema[position]
        switch type.kind {
        case .null: return .null
        case .boolean:
            let start = offset
            switch try byte() {
            case 0: return .boolean(false)
            case 1: return .boolean(true)
            default: throw AvroDecodingError.invalidBoolean(offset: start)
            }
        case .int: return .int(try int())
        case .long:
            let value = try long()
            switch type.logicalType {
            case .timestampMillis: return .timestampMillis(value)
            case .timestampMicros: return .timestampMicros(value)
            default: return .long(value)
            }
        case .float: return .float(Float(bitPattern: UInt32(truncatingIfNeeded: try littleEndian(4))))
        case .double: return .double(Double(bitPattern: try littleEndian(8)))
        case .bytes:
            let bytes = try lengthPrefixed()
            if case .decimal(_, let scale) = type.logicalType, let decimal = Self.decimal(bytes, scale: scale) { return .decimal(decimal) }
            return .bytes(bytes)
        case .string:
            let start = offset
            guard let text = String(validating: try lengthPrefixed(), as: UTF8.self) else { throw AvroDecodingError.invalidUTF8(offset: start) }
            return .string(text)
        case .fixed(_, let size):
            let bytes = try take(size)
            if case .decimal(_, let scale) = type.logicalType, let decimal = Self.decimal(bytes, scale: scale) { return .decimal(decimal) }
            return .fixed(bytes)
        case .enumeration(_, let symbols):
            let start = offset
            let index = Int64(try int())
            guard index >= 0, index < symbols.count else { throw AvroDecodingError.indexOutOfRange(index: index, count: symbols.count, offset: start) }
            return .enumeration(symbols[Int(index)])
        case .record(let name, let fields):
            guard depth < maxDepth else { throw AvroDecodingError.tooDeep(limit: maxDepth) }
            var values: [AvroValue] = []
            values.reserveCapacity(fields.count)
            for field in fields { values.append(try value(of: field.type, depth: depth + 1)) }
            return .record(AvroRecord(name: name, names: fields.map(\.name), values: values))
        case .union(let branches):
            guard depth < maxDepth else { throw AvroDecodingError.tooDeep(limit: maxDepth) }
            let start = offset
            let index = try long()
            guard index >= 0, index < branches.count else { throw AvroDecodingError.indexOutOfRange(index: index, count: branches.count, offset: start) }
            return try value(of: branches[Int(index)], depth: depth + 1)
        case .array(let items):
            guard depth < maxDepth else { throw AvroDecodingError.tooDeep(limit: maxDepth) }
            var values: [AvroValue] = []
            while case let count = try blockCount(), count > 0 {
                for _ in 0..<count { values.append(try value(of: items, depth: depth + 1)) }
            }
            return .array(values)
        case .map(let valueType):
            guard depth < maxDepth else { throw AvroDecodingError.tooDeep(limit: maxDepth) }
            var entries: [String: AvroValue] = [:]
            while case let count = try blockCount(), count > 0 {
                for _ in 0..<count {
                    let start = offset
                    guard let key = String(validating: try lengthPrefixed(), as: UTF8.self) else { throw AvroDecodingError.invalidUTF8(offset: start) }
                    entries[key] = try value(of: valueType, depth: depth + 1)
                }
            }
            return .map(entries)
        }
    }

    /// The item count of an array's or map's next block; zero after the last. A negative count
    /// is followed by the block's size in bytes, which is checked and skipped.
    private mutating func blockCount() throws -> Int {
        let start = offset
        var count = try long()
        if count == 0 { return 0 }
        if count < 0 {
            guard count != .min else { throw AvroDecodingError.invalidLength(count, offset: start) }
            count = -count
            let sizeAt = offset
            let size = try long()
            guard size >= 0, size <= bytes.count - offset else { throw AvroDecodingError.invalidLength(size, offset: sizeAt) }
        }
        guard count <= Int64(itemsLeft) else { throw AvroDecodingError.tooManyItems(limit: maxItems) }
        itemsLeft -= Int(count)
        return Int(count)
    }

    private mutating func byte() throws -> UInt8 {
        guard offset < bytes.count else { throw AvroDecodingError.truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func take(_ count: Int) throws -> [UInt8] {
        guard count <= bytes.count - offset else { throw AvroDecodingError.truncated(offset: offset) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    private mutating func lengthPrefixed() throws -> [UInt8] {
        let start = offset
        let length = try long()
        guard length >= 0, length <= bytes.count - offset else { throw AvroDecodingError.invalidLength(length, offset: start) }
        return try take(Int(length))
    }

    private mutating func littleEndian(_ width: Int) throws -> UInt64 {
        guard width <= bytes.count - offset else { throw AvroDecodingError.truncated(offset: offset) }
        var value: UInt64 = 0
        for index in 0..<width { value |= UInt64(bytes[offset + index]) << (8 * index) }
        offset += width
        return value
    }

    /// A zig-zag varint of at most `maxBytes` bytes whose value fits `bits` bits.
    private mutating func varint(maxBytes: Int) throws -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        for index in 0..<maxBytes {
            let byte = try byte()
            let part = UInt64(byte & 0x7F)
            // The tenth byte of a long may only carry its top bit.
            if index == 9 && part > 1 { throw AvroDecodingError.invalidVarint(offset: start) }
            value |= part << (7 * index)
            if byte & 0x80 == 0 { return value }
        }
        throw AvroDecodingError.invalidVarint(offset: start)
    }

    mutating func long() throws -> Int64 {
        let raw = try varint(maxBytes: 10)
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    mutating func int() throws -> Int32 {
        let start = offset
        let raw = try varint(maxBytes: 5)
        guard raw <= UInt64(UInt32.max) else { throw AvroDecodingError.invalidVarint(offset: start) }
        let value = Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
        return Int32(value)
    }

    /// A decimal from its unscaled two's-complement big-endian bytes, when it and its scale fit
    /// `Decimal` exactly (38 digits).
    static func decimal(_ bytes: [UInt8], scale: Int) -> Decimal? {
        guard scale <= 38 else { return nil }
        guard !bytes.isEmpty, bytes.count <= 16 else { return bytes.isEmpty ? Decimal(0) : nil }
        var unscaled: Int128 = bytes[0] & 0x80 != 0 ? -1 : 0
        for byte in bytes { unscaled = (unscaled << 8) | Int128(byte) }
        let magnitude = unscaled.magnitude
        guard magnitude < 100_000_000_000_000_000_000_000_000_000_000_000_000 as UInt128 else { return nil }
        guard let significand = Decimal(string: String(magnitude)) else { return nil }
        return Decimal(sign: unscaled < 0 ? .minus : .plus, exponent: -scale, significand: significand)
    }
}
#endif
