import Foundation

/// A SOQL query whose interpolated values are always literals, never query text.
///
/// ```swift
/// let reference = userInput            // "x' OR Name != '"
/// let soql: SOQL = "SELECT Id FROM Payment__c WHERE Reference__c = \(reference) LIMIT \(10)"
/// // SELECT Id FROM Payment__c WHERE Reference__c = 'x\' OR Name != \'' LIMIT 10
/// ```
///
/// Strings become single-quoted literals with Salesforce's escapes (`\'`, `\"`, `\\`, `\n`,
/// `\r`, `\t`, `\b`, `\f`); numbers, booleans and dates their literal forms; arrays of strings
/// an `IN` list. Use `\(like: text)` inside a `LIKE` pattern to escape `%` and `_` too, and
/// ``init(unsafeRaw:)`` only for text you wrote yourself.
public struct SOQL: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringInterpolation {
    /// The query text as sent.
    public let text: String

    /// Uses `text` as it is. Never pass user input.
    public init(unsafeRaw text: String) { self.text = text }

    /// A query without interpolations.
    public init(stringLiteral value: String) { self.text = value }

    /// Builds the query from its interpolation.
    public init(stringInterpolation: StringInterpolation) { self.text = stringInterpolation.text }

    /// The query text.
    public var description: String { text }

    /// Collects literal text and escaped values.
    public struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var text = ""

        /// Reserves space.
        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 8)
        }

        /// Query text written in the literal.
        public mutating func appendLiteral(_ literal: String) { text += literal }

        /// A string literal: `'…'` with escapes.
        public mutating func appendInterpolation(_ value: String) { text += SOQL.quote(value, like: false) }

        /// A string literal inside a `LIKE` pattern: `%` and `_` are escaped too.
        public mutating func appendInterpolation(like value: String) { text += SOQL.quote(value, like: true) }

        /// An integer literal.
        public mutating func appendInterpolation<Number: BinaryInteger>(_ value: Number) { text += String(value) }

        /// A decimal literal; non-finite values become `null`.
        public mutating func appendInterpolation(_ value: Double) {
            text += value.isFinite ? String(value) : "null"
        }

        /// A decimal literal.
        public mutating func appendInterpolation(_ value: Decimal) { text += "\(value)" }

        /// `true` or `false`.
        public mutating func appendInterpolation(_ value: Bool) { text += value ? "true" : "false" }

        /// A dateTime literal in UTC: `2026-01-31T09:30:00Z`.
        public mutating func appendInterpolation(_ value: Date) { text += SOQL.dateTimeLiteral(value) }

        /// An `IN` list: `('a', 'b')`.
        public mutating func appendInterpolation(_ values: [String]) {
            text += "(" + values.map { SOQL.quote($0, like: false) }.joined(separator: ", ") + ")"
        }

        /// Another query's text, for composing queries built safely.
        public mutating func appendInterpolation(_ query: SOQL) { text += query.text }
    }

    /// `value` as a single-quoted SOQL string literal.
    public static func quote(_ value: String, like: Bool = false) -> String {
        var result = "'"
        for character in value.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "'": result += "\\'"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{8}": result += "\\b"
            case "\u{C}": result += "\\f"
            case "%" where like: result += "\\%"
            case "_" where like: result += "\\_"
            default: result.unicodeScalars.append(character)
            }
        }
        return result + "'"
    }

    static func dateTimeLiteral(_ date: Date) -> String {
        let http = HTTPDate.format(date)  // "Sun, 06 Nov 1994 08:49:37 GMT"
        let parts = http.split(separator: " ")
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let month = (months.firstIndex(of: String(parts[2])) ?? 0) + 1
        return "\(parts[3])-\(month < 10 ? "0" : "")\(month)-\(parts[1])T\(parts[4])Z"
    }
}
