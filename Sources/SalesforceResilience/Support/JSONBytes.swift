import Foundation

/// JSON written and read byte by byte, for the outbox journal's hot paths: a replay of 100,000
/// entries, and entries whose fields stay in memory as the JSON they were written as. Foundation's
/// coders build a tree of boxes for every value; these do not.
///
/// Only what the journal needs: ``JSONValue`` trees, strings, and a scanner that reads strings
/// and numbers, skips (and so validates) any value, and parses one into a ``JSONValue``.
enum JSONBytes {
    /// A number JSON cannot carry (infinite or NaN), as `JSONEncoder` refuses it too.
    struct InvalidNumber: Error, CustomStringConvertible {
        let value: Double
        var description: String { "\(value) cannot be written as JSON" }
    }

    /// Appends `value` as compact JSON.
    static func write(_ value: JSONValue, to out: inout [UInt8]) throws(InvalidNumber) {
        switch value {
        case .string(let text): write(text, to: &out)
        case .number(let number): try write(number, to: &out)
        case .bool(let flag): out.append(contentsOf: flag ? "true".utf8 : "false".utf8)
        case .null: out.append(contentsOf: "null".utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                try write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            try write(members, to: &out)
        }
    }

    /// Appends an object, its members in key order (so equal objects are equal bytes).
    static func write(_ members: [String: JSONValue], to out: inout [UInt8]) throws(InvalidNumber) {
        out.append(UInt8(ascii: "{"))
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(key, to: &out)
            out.append(UInt8(ascii: ":"))
            try write(members[key] ?? .null, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Appends a number in the shortest form that reads back as the same `Double`.
    static func write(_ number: Double, to out: inout [UInt8]) throws(InvalidNumber) {
        guard number.isFinite else { throw InvalidNumber(value: number) }
        out.append(contentsOf: number.description.utf8)
    }

    /// Appends a quoted string: quote, backslash and control characters escaped, the rest as UTF-8.
    static func write(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: one copy.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The value `bytes` hold, or `nil` unless they are exactly one JSON value.
    static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        let array = Array(bytes)
        return array.withUnsafeBytes { buffer in
            var scanner = JSONScanner(buffer)
            guard let value = scanner.value(), scanner.atEnd else { return nil }
            return value
        }
    }
}

/// Reads JSON from a buffer, one token at a time. Every method leaves ``index`` after what it
/// read and returns `nil` (or `false`) on anything that is not valid JSON there.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// Nesting deeper than this is refused: a journal line is never deep, and recursion is bounded.
    static let maximumDepth = 64

    init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) {
        self.bytes = bytes
        index = start
    }

    /// Whether only whitespace is left.
    var atEnd: Bool {
        mutating get {
            skipSpace()
            return index == bytes.count
        }
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace) if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// The next byte after whitespace, not consumed.
    mutating func peek() -> UInt8? {
        skipSpace()
        return index < bytes.count ? bytes[index] : nil
    }

    /// A string, unescaped.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        // The common case: no escapes, one copy.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "\"") {
            defer { index += 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        }
        var decoded: [UInt8]? = Array(bytes[start..<index])
        guard restOfString(into: &decoded), let decoded else { return nil }
        return String(decoding: decoded, as: UTF8.self)
    }

    /// A string's bytes between its quotes, for a string without escapes (such as an object key
    /// this library wrote); `nil` for any other string.
    mutating func plainString() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
        index += 1
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(index - 1)])
    }

    /// Skips a string, checking it as ``string()`` does, without building it.
    mutating func skipString() -> Bool {
        guard take(UInt8(ascii: "\"")) else { return false }
        var nothing: [UInt8]?
        return restOfString(into: &nothing)
    }

    /// Reads the rest of a string up to and including its closing quote, unescaping into
    /// `decoded` (when there is one to fill).
    private mutating func restOfString(into decoded: inout [UInt8]?) -> Bool {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return true
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return false }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded?.append(escape)
                case UInt8(ascii: "b"): decoded?.append(0x08)
                case UInt8(ascii: "f"): decoded?.append(0x0C)
                case UInt8(ascii: "n"): decoded?.append(0x0A)
                case UInt8(ascii: "r"): decoded?.append(0x0D)
                case UInt8(ascii: "t"): decoded?.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return false }
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate must be followed by an escaped low one.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { return false }
                        index += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return false }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return false }
                    decoded?.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    return false
                }
            case 0..<0x20:
                return false
            default:
                decoded?.append(byte)
            }
        }
        return false
    }

    private mutating func hex4() -> UInt32? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A number, by JSON's grammar.
    mutating func number() -> Double? {
        skipSpace()
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        let integer = index
        guard digits() > 0 else { return nil }
        if bytes[integer] == UInt8(ascii: "0"), index - integer > 1 { return nil }  // no leading zeros
        let end = index
        // A whole number of up to 15 digits is exact as a Double: no text to convert.
        let next = index < bytes.count ? bytes[index] : 0
        if end - integer <= 15, next != UInt8(ascii: "."), next != UInt8(ascii: "e"), next != UInt8(ascii: "E") {
            var value = 0
            for offset in integer..<end { value = value * 10 + Int(bytes[offset] - UInt8(ascii: "0")) }
            return negative ? -Double(value) : Double(value)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { return nil }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        skipSpace()
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// Any value, parsed.
    mutating func value(depth: Int = 0) -> JSONValue? {
        guard depth < Self.maximumDepth, let next = peek() else { return nil }
        switch next {
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "["):
            index += 1
            var items: [JSONValue] = []
            if take(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                guard let item = value(depth: depth + 1) else { return nil }
                items.append(item)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? .array(items) : nil
        case UInt8(ascii: "{"):
            var members: [String: JSONValue] = [:]
            let complete = object { scanner, key in
                guard let member = scanner.value(depth: depth + 1) else { return false }
                members[key] = member
                return true
            }
            return complete ? .object(members) : nil
        default:
            return number().map(JSONValue.number)
        }
    }

    /// Reads an object, handing each key to `member`, which must read the member's value.
    /// `false` if the object is malformed or `member` refused.
    mutating func object(_ member: (inout JSONScanner, String) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// Whether `key` (from ``objectWithPlainKeys(_:)``) is `name`.
    static func isKey(_ key: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount && (key.isEmpty || memcmp(key.baseAddress!, name.utf8Start, key.count) == 0)
    }

    /// ``object(_:)`` for keys without escapes, handed over as their bytes: no string is made
    /// for a key. `false` for a key with an escape, as for a malformed object.
    mutating func objectWithPlainKeys(_ member: (inout JSONScanner, UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")), member(&self, key) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// Reads an array, calling `element` for each element, which must read it.
    mutating func array(_ element: (inout JSONScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// Skips one value, checking that it is valid JSON; the range of its bytes.
    mutating func skipValue(depth: Int = 0) -> Range<Int>? {
        guard depth < Self.maximumDepth, let next = peek() else { return nil }
        let start = index
        let valid: Bool
        switch next {
        case UInt8(ascii: "\""): valid = skipString()
        case UInt8(ascii: "t"): valid = literal("true")
        case UInt8(ascii: "f"): valid = literal("false")
        case UInt8(ascii: "n"): valid = literal("null")
        case UInt8(ascii: "["): valid = array { $0.skipValue(depth: depth + 1) != nil }
        case UInt8(ascii: "{"):
            index += 1
            var members = true
            if !take(UInt8(ascii: "}")) {
                repeat {
                    guard skipString(), take(UInt8(ascii: ":")), skipValue(depth: depth + 1) != nil else {
                        members = false
                        break
                    }
                } while take(UInt8(ascii: ","))
                members = members && take(UInt8(ascii: "}"))
            }
            valid = members
        default: valid = number() != nil
        }
        return valid ? start..<index : nil
    }
}
