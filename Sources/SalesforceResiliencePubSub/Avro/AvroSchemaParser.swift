#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

extension AvroSchema {
    /// Parses a schema's JSON (Avro 1.11: primitives, records, enums, arrays, maps, unions,
    /// fixed, named references with namespaces, and the logical types ``AvroLogicalType`` lists;
    /// a logical type that does not fit its underlying type is ignored, as the specification asks).
    ///
    /// - Throws: ``AvroSchemaError``.
    public init(json: String) throws {
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)) } catch {
            throw AvroSchemaError.invalidJSON(String(describing: error))
        }
        var parser = AvroSchemaParser()
        let root = try parser.parse(value, namespace: nil, depth: 0)
        try self.init(types: parser.types, root: root)
    }
}

/// Builds the type table of an ``AvroSchema`` from its JSON.
struct AvroSchemaParser {
    /// Deeper nesting than this is refused: no real schema comes close, and parsing recurses.
    static let maxDepth = 64

    var types: [AvroType] = []
    /// Named types by full name.
    var named: [String: Int] = [:]

    private mutating func add(_ type: AvroType) -> Int {
        types.append(type)
        return types.count - 1
    }

    mutating func parse(_ value: JSONValue, namespace: String?, depth: Int) throws -> Int {
        guard depth < Self.maxDepth else { throw AvroSchemaError.invalid("types nested more than \(Self.maxDepth) deep") }
        switch value {
        case .string(let name):
            return try reference(name, namespace: namespace)
        case .array(let branches):
            guard !branches.isEmpty else { throw AvroSchemaError.invalid("an empty union") }
            let positions = try branches.map { try parse($0, namespace: namespace, depth: depth + 1) }
            for position in positions {
                if case .union = types[position].kind { throw AvroSchemaError.invalid("a union directly inside a union") }
            }
            return add(AvroType(.union(positions)))
        case .object(let object):
            guard let type = object["type"] else { throw AvroSchemaError.invalid("a type object without \"type\"") }
            guard case .string(let name) = type else {
                // {"type": {...}} or {"type": [...]}: the inner schema, attributes aside.
                return try parse(type, namespace: namespace, depth: depth + 1)
            }
            switch name {
            case "record", "error": return try record(object, namespace: namespace, depth: depth)
            case "enum": return try enumeration(object, namespace: namespace)
            case "fixed": return try fixed(object, namespace: namespace)
            case "array":
                guard let items = object["items"] else { throw AvroSchemaError.invalid("an array without \"items\"") }
                return add(AvroType(.array(items: try parse(items, namespace: namespace, depth: depth + 1))))
            case "map":
                guard let values = object["values"] else { throw AvroSchemaError.invalid("a map without \"values\"") }
                return add(AvroType(.map(values: try parse(values, namespace: namespace, depth: depth + 1))))
            default:
                guard let kind = Self.primitive(name) else { return try reference(name, namespace: namespace) }
                return add(AvroType(kind, logicalType: Self.logicalType(object, on: kind)))
            }
        default:
            throw AvroSchemaError.invalid("a schema must be a name, an object or a union, not \(value)")
        }
    }

    static func primitive(_ name: String) -> AvroType.Kind? {
        switch name {
        case "null": .null
        case "boolean": .boolean
        case "int": .int
        case "long": .long
        case "float": .float
        case "double": .double
        case "bytes": .bytes
        case "string": .string
        default: nil
        }
    }

    /// A primitive by name, or a named type defined earlier (by full name, or in `namespace`).
    private mutating func reference(_ name: String, namespace: String?) throws -> Int {
        if let kind = Self.primitive(name) { return add(AvroType(kind)) }
        if let position = named[Self.fullName(name, namespace: namespace)] ?? named[name] { return position }
        throw AvroSchemaError.unknownType(name)
    }

    static func fullName(_ name: String, namespace: String?) -> String {
        if name.contains(".") { return name }
        guard let namespace, !namespace.isEmpty else { return name }
        return namespace + "." + name
    }

    /// The full name of a named type's definition, registered at `position`.
    private mutating func define(_ object: [String: JSONValue], namespace: String?, at position: Int) throws -> String {
        guard case .string(let name)? = object["name"], !name.isEmpty else { throw AvroSchemaError.invalid("a named type without a name") }
        let full = Self.fullName(name, namespace: object["namespace"]?.stringValue ?? namespace)
        guard named[full] == nil else { throw AvroSchemaError.duplicateName(full) }
        named[full] = position
        return full
    }

    private mutating func record(_ object: [String: JSONValue], namespace: String?, depth: Int) throws -> Int {
        // Registered before its fields are parsed, so that a field may refer to the record itself.
        let position = add(AvroType(.null))
        let full = try define(object, namespace: namespace, at: position)
        let inner = full.contains(".") ? String(full[..<full.lastIndex(of: ".")!]) : nil
        guard case .array(let list)? = object["fields"] else { throw AvroSchemaError.invalid("record \(full) has no \"fields\" array") }
        var fields: [AvroField] = []
        var seen: Set<String> = []
        for field in list {
            guard case .object(let attributes) = field, case .string(let name)? = attributes["name"], let type = attributes["type"] else {
                throw AvroSchemaError.invalid("a field of \(full) without a name or a type")
            }
            guard seen.insert(name).inserted else { throw AvroSchemaError.invalid("record \(full) has two fields named \(name)") }
            fields.append(AvroField(name: name, type: try parse(type, namespace: inner, depth: depth + 1)))
        }
        types[position] = AvroType(.record(name: full, fields: fields))
        return position
    }

    private mutating func enumeration(_ object: [String: JSONValue], namespace: String?) throws -> Int {
        let position = add(AvroType(.null))
        let full = try define(object, namespace: namespace, at: position)
        guard case .array(let list)? = object["symbols"] else { throw AvroSchemaError.invalid("enum \(full) has no \"symbols\" array") }
        let symbols = try list.map { symbol -> String in
            guard case .string(let text) = symbol else { throw AvroSchemaError.invalid("enum \(full) has a symbol that is not a string") }
            return text
        }
        guard Set(symbols).count == symbols.count else { throw AvroSchemaError.invalid("enum \(full) repeats a symbol") }
        types[position] = AvroType(.enumeration(name: full, symbols: symbols))
        return position
    }

    private mutating func fixed(_ object: [String: JSONValue], namespace: String?) throws -> Int {
        let position = add(AvroType(.null))
        let full = try define(object, namespace: namespace, at: position)
        guard case .number(let number)? = object["size"], let size = Int(exactly: number), size >= 0 else {
            throw AvroSchemaError.invalid("fixed \(full) has no whole, non-negative \"size\"")
        }
        let kind = AvroType.Kind.fixed(name: full, size: size)
        types[position] = AvroType(kind, logicalType: Self.logicalType(object, on: kind))
        return position
    }

    /// The logical type an object names, when it fits `kind`; otherwise `nil` (the value is read
    /// as its underlying type).
    static func logicalType(_ object: [String: JSONValue], on kind: AvroType.Kind) -> AvroLogicalType? {
        guard let name = object["logicalType"]?.stringValue else { return nil }
        switch (name, kind) {
        case ("date", .int): return .date
        case ("time-millis", .int): return .timeMillis
        case ("time-micros", .long): return .timeMicros
        case ("timestamp-millis", .long): return .timestampMillis
        case ("timestamp-micros", .long): return .timestampMicros
        case ("uuid", .string): return .uuid
        case ("decimal", .bytes), ("decimal", .fixed):
            guard case .number(let p)? = object["precision"], let precision = Int(exactly: p), precision > 0 else { return nil }
            var scale = 0
            if let given = object["scale"] {
                guard case .number(let s) = given, let value = Int(exactly: s), value >= 0, value <= precision else { return nil }
                scale = value
            }
            return .decimal(precision: precision, scale: scale)
        default:
            return nil
        }
    }
}
#endif
