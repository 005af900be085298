#if PubSub // the package trait that brings this module
/// An Avro schema, parsed from the JSON that the Pub/Sub API's `GetSchema` returns.
///
/// Types are held in one table and refer to each other by position, so a record that names
/// itself (a linked list, a tree) is a cycle in the table rather than an infinite value.
///
/// ```swift
/// let schema = try AvroSchema(json: schemaJSON)
/// let event = try AvroDecoder().decode(payload, as: schema)
/// ```
public struct AvroSchema: Sendable, Hashable {
    /// Every type of the schema; ``root`` and the types' children are positions in it.
    public let types: [AvroType]
    /// The position of the schema's own type.
    public let root: Int

    /// Creates a schema from its type table (``AvroSchema/init(json:)`` builds one from JSON).
    public init(types: [AvroType], root: Int) throws {
        guard types.indices.contains(root) else { throw AvroSchemaError.invalid("the root type \(root) is not in the table") }
        for type in types {
            for child in type.children where !types.indices.contains(child) {
                throw AvroSchemaError.invalid("a type refers to position \(child), which is not in the table")
            }
        }
        self.types = types
        self.root = root
    }

    /// The root type.
    public var rootType: AvroType { types[root] }

    /// The type at `position`.
    public subscript(position: Int) -> AvroType { types[position] }

    /// The fields of the root record; empty when the root is not a record.
    public var fields: [AvroField] {
        if case .record(_, let fields) = rootType.kind { return fields }
        return []
    }
}

/// One type of an ``AvroSchema``.
public struct AvroType: Sendable, Hashable {
    /// What the type is.
    public enum Kind: Sendable, Hashable {
        /// No value (zero bytes).
        case null
        /// One byte, 0 or 1.
        case boolean
        /// A 32-bit integer, zig-zag varint encoded.
        case int
        /// A 64-bit integer, zig-zag varint encoded.
        case long
        /// A 32-bit IEEE 754 number, little-endian.
        case float
        /// A 64-bit IEEE 754 number, little-endian.
        case double
        /// A length, then that many bytes.
        case bytes
        /// A length, then that many bytes of UTF-8.
        case string
        /// Named fields, in order. The name is the full name (with its namespace).
        case record(name: String, fields: [AvroField])
        /// One of `symbols`, encoded as its position.
        case enumeration(name: String, symbols: [String])
        /// Items of the type at this position, in blocks.
        case array(items: Int)
        /// Values of the type at this position under string keys, in blocks.
        case map(values: Int)
        /// One of the types at these positions, encoded as the branch's position, then its value.
        case union([Int])
        /// Exactly `size` bytes.
        case fixed(name: String, size: Int)
    }

    /// What the type is.
    public var kind: Kind
    /// The logical type that refines it (`timestamp-millis` on a `long`, `decimal` on `bytes`),
    /// when the schema names one this decoder knows and it fits the underlying type.
    public var logicalType: AvroLogicalType?

    /// Creates a type.
    public init(_ kind: Kind, logicalType: AvroLogicalType? = nil) {
        self.kind = kind
        self.logicalType = logicalType
    }

    /// The positions of the types inside this one.
    var children: [Int] {
        switch kind {
        case .record(_, let fields): fields.map(\.type)
        case .array(let items): [items]
        case .map(let values): [values]
        case .union(let branches): branches
        default: []
        }
    }
}

/// A field of an Avro record.
public struct AvroField: Sendable, Hashable {
    /// The field's name.
    public var name: String
    /// The position of its type in the schema's table.
    public var type: Int

    /// Creates a field.
    public init(name: String, type: Int) {
        self.name = name
        self.type = type
    }
}

/// The Avro logical types a decoded value is refined by.
public enum AvroLogicalType: Sendable, Hashable {
    /// Days since 1970-01-01, on an `int`.
    case date
    /// Milliseconds since midnight, on an `int`.
    case timeMillis
    /// Microseconds since midnight, on a `long`.
    case timeMicros
    /// Milliseconds since the Unix epoch (UTC), on a `long`: Salesforce's date-time fields.
    case timestampMillis
    /// Microseconds since the Unix epoch (UTC), on a `long`.
    case timestampMicros
    /// A decimal: an unscaled two's-complement big-endian integer on `bytes` or `fixed`.
    case decimal(precision: Int, scale: Int)
    /// A UUID in its text form, on a `string`.
    case uuid
}

/// A schema that cannot be used.
public enum AvroSchemaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is not JSON.
    case invalidJSON(String)
    /// A type name that is neither a primitive nor a named type defined before it.
    case unknownType(String)
    /// Two named types with one full name.
    case duplicateName(String)
    /// Anything else the specification does not allow (a record without fields, a fixed without
    /// a size, a union inside a union, a schema nested too deeply).
    case invalid(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .invalidJSON(let detail): "Avro schema is not JSON: \(detail)"
        case .unknownType(let name): "Avro schema names an unknown type '\(name)'"
        case .duplicateName(let name): "Avro schema defines '\(name)' twice"
        case .invalid(let detail): "invalid Avro schema: \(detail)"
        }
    }
}
#endif
