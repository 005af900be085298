/// An ordered list of HTTP header fields with case-insensitive name lookup.
///
/// Names keep the spelling they were added with; lookups ignore case, as RFC 9110 requires.
public struct HTTPHeaders: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible, CustomReflectable {
    /// One header field.
    public struct Field: Sendable, Hashable {
        /// The field name as it was added.
        public var name: String
        /// The field value.
        public var value: String

        /// Creates a field.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    private var fields: [Field]

    /// Creates an empty header list.
    public init() { fields = [] }

    /// Creates headers from name/value pairs, in order.
    public init(_ pairs: [(String, String)]) {
        fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    /// Creates headers from a dictionary literal.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The first value for `name`, ignoring case; setting replaces every field of that name,
    /// and `nil` removes them.
    public subscript(name: String) -> String? {
        get { fields.first { Self.same($0.name, name) }?.value }
        set {
            fields.removeAll { Self.same($0.name, name) }
            if let newValue { fields.append(Field(name: name, value: newValue)) }
        }
    }

    /// Every value for `name`, ignoring case, in order.
    public func values(for name: String) -> [String] {
        fields.filter { Self.same($0.name, name) }.map(\.value)
    }

    /// Adds a field without removing others of the same name.
    public mutating func add(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }

    /// Whether a field named `name` exists, ignoring case.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Iterates the fields in order.
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// Fields as `name: value` lines, with credentials redacted.
    public var description: String {
        fields.map { field in
            let value = Redaction.isSensitiveHeader(field.name) ? Redaction.placeholder : field.value
            return "\(field.name): \(value)"
        }.joined(separator: "\n")
    }

    /// Reflection with credentials redacted, as in ``description``, so `dump` shows no token.
    public var customMirror: Mirror {
        Mirror(self, children: fields.map { field in
            (label: field.name, value: Redaction.isSensitiveHeader(field.name) ? Redaction.placeholder : field.value) as Mirror.Child
        }, displayStyle: .dictionary)
    }

    /// Case-insensitive name comparison, looked up on every header read: ASCII bytes are
    /// compared in place (on the strings' own storage when they have it), and only a name with
    /// non-ASCII bytes pays for `lowercased()`.
    private static func same(_ a: String, _ b: String) -> Bool {
        let (x, y) = (a.utf8, b.utf8)
        guard x.count == y.count else { return false }
        let inPlace = x.withContiguousStorageIfAvailable { p in
            y.withContiguousStorageIfAvailable { q in sameASCII(p, q) }
        }
        let verdict = (inPlace ?? nil) ?? sameASCII(x, y)
        return verdict ?? (a.lowercased() == b.lowercased())
    }

    /// Whether two names of equal length match ignoring ASCII case; `nil` when a byte is not ASCII.
    @inline(__always)
    private static func sameASCII<C: Collection<UInt8>>(_ x: C, _ y: C) -> Bool? {
        for (p, q) in zip(x, y) where p != q {
            if p >= 0x80 || q >= 0x80 { return nil }
            if p | 0x20 != q | 0x20 || !(UInt8(ascii: "a")...UInt8(ascii: "z")).contains(p | 0x20) { return false }
        }
        return true
    }
}
