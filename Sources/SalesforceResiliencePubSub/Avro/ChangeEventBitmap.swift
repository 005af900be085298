#if PubSub // the package trait that brings this module
/// The field names behind a change event's bitmap fields (`ChangeEventHeader.changedFields`,
/// `nulledFields`, `diffFields`), which the Pub/Sub API delivers as hexadecimal bitmaps.
///
/// The first element, `0x…`, is a bitmap over the event schema's top-level fields: bit *i*
/// (counting from the least significant bit of the number) names field *i*. An element
/// `N-0x…` is a bitmap over the fields of the compound field at position *N* (a record, usually
/// inside a union with `null`), whose names come back as `Parent.Child`. For example
/// `["0x650004E0", "4-0x10", "7-0x06"]`.
public enum ChangeEventBitmap {
    /// The field names `bitmaps` stand for, in schema order: top-level fields first, then each
    /// compound field's parts in the order of `bitmaps`.
    ///
    /// - Throws: ``ChangeEventBitmapError`` for text that is not a bitmap, a bit past the last
    ///   field, or a compound position that is not a record.
    public static func fieldNames(_ bitmaps: [String], in schema: AvroSchema) throws -> [String] {
        var names: [String] = []
        for element in bitmaps {
            if element.hasPrefix("0x") || element.hasPrefix("0X") {
                let fields = schema.fields
                names += try positions(element, limit: fields.count).map { fields[$0].name }
                continue
            }
            guard let dash = element.firstIndex(of: "-"), let parent = Int(element[..<dash]) else { throw ChangeEventBitmapError.malformed(element) }
            let fields = schema.fields
            guard fields.indices.contains(parent), let compound = recordFields(of: fields[parent].type, in: schema) else {
                throw ChangeEventBitmapError.notACompoundField(element)
            }
            let bitmap = String(element[element.index(after: dash)...])
            names += try positions(bitmap, limit: compound.count).map { "\(fields[parent].name).\(compound[$0].name)" }
        }
        return names
    }

    /// The set bits of `0x…` text, least significant first.
    static func positions(_ text: String, limit: Int) throws -> [Int] {
        guard text.hasPrefix("0x") || text.hasPrefix("0X") else { throw ChangeEventBitmapError.malformed(text) }
        let digits = Array(text.utf8.dropFirst(2))
        guard !digits.isEmpty else { throw ChangeEventBitmapError.malformed(text) }
        var set: [Int] = []
        for (offset, digit) in digits.reversed().enumerated() {
            guard let nibble = hexValue(digit) else { throw ChangeEventBitmapError.malformed(text) }
            for bit in 0..<4 where nibble & (1 << bit) != 0 {
                let position = offset * 4 + bit
                guard position < limit else { throw ChangeEventBitmapError.bitPastLastField(text, bit: position, fields: limit) }
                set.append(position)
            }
        }
        return set.sorted()
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The fields of the record at `position`, or of the one record branch of a union.
    private static func recordFields(of position: Int, in schema: AvroSchema) -> [AvroField]? {
        switch schema[position].kind {
        case .record(_, let fields): return fields
        case .union(let branches):
            let records = branches.compactMap { branch -> [AvroField]? in
                if case .record(_, let fields) = schema[branch].kind { return fields }
                return nil
            }
            return records.count == 1 ? records[0] : nil
        default: return nil
        }
    }
}

/// A bitmap field that does not fit its event's schema.
public enum ChangeEventBitmapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Text that is neither `0x…` nor `N-0x…` with hexadecimal digits.
    case malformed(String)
    /// `N-0x…` where field N is not a compound (record) field.
    case notACompoundField(String)
    /// A set bit with no field at its position.
    case bitPastLastField(String, bit: Int, fields: Int)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .malformed(let text): "change event bitmap '\(text)' is not 0x… or N-0x…"
        case .notACompoundField(let text): "change event bitmap '\(text)' names a field that is not a compound field"
        case .bitPastLastField(let text, let bit, let fields): "change event bitmap '\(text)' sets bit \(bit) of \(fields) fields"
        }
    }
}
#endif
