extension BidirectionalCollection where Element == UInt8 {
    /// The bytes without leading and trailing optional whitespace — spaces and horizontal tabs,
    /// RFC 9110's `OWS` — for parsing header values. On bytes, not `Character`s: Foundation's
    /// `trimmingCharacters(in:)` (which bridges through `NSString` on Linux) and grapheme-level
    /// `String` work dominated the cost of parsing `Sforce-Limit-Info` on every response.
    var trimmingHTTPWhitespace: SubSequence {
        func isOWS(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = startIndex
        var end = endIndex
        while start < end, isOWS(self[start]) { start = index(after: start) }
        while end > start, isOWS(self[index(before: end)]) { end = index(before: end) }
        return self[start..<end]
    }

    /// The bytes as a non-negative decimal integer: ASCII digits only, no sign, no overflow.
    var nonNegativeDecimal: Int? {
        guard !isEmpty else { return nil }
        var value = 0
        for byte in self {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = shifted.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// Whether the bytes equal `lowercaseASCII`, ignoring ASCII case.
    func equalsIgnoringASCIICase(_ lowercaseASCII: StaticString) -> Bool {
        guard count == lowercaseASCII.utf8CodeUnitCount else { return false }
        return lowercaseASCII.withUTF8Buffer { expected in
            zip(self, expected).allSatisfy { byte, wanted in
                (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == wanted
            }
        }
    }
}
