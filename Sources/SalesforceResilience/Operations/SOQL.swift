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
        public mutating func appendInterpolation(_ value: Double) { text += SOQL.numberLiteral(value) }

        /// A decimal literal.
        public mutating func appendInterpolation(_ value: Decimal) { text += "\(value)" }

        /// `true` or `false`.
        public mutating func appendInterpolation(_ value: Bool) { text += value ? "true" : "false" }

        /// A dateTime literal in UTC: `2026-01-31T09:30:00Z`.
        public mutating func appendInterpolation(_ value: Date) { text += SOQL.dateTimeLiteral(value) }

        /// An `IN` list: `('a', 'b')`. An empty list gives `()`, which Salesforce refuses as
        /// `MALFORMED_QUERY`: test for emptiness before querying.
        public mutating func appendInterpolation(_ values: [String]) { list(values.map { SOQL.quote($0, like: false) }) }

        /// An `IN` list of numbers: `(1, 2)`.
        public mutating func appendInterpolation<Number: BinaryInteger>(_ values: [Number]) { list(values.map { String($0) }) }

        /// An `IN` list of numbers: `(1.5, 2)`.
        public mutating func appendInterpolation(_ values: [Double]) { list(values.map(SOQL.numberLiteral)) }

        /// An `IN` list of dateTimes: `(2026-01-31T09:30:00Z, …)`.
        public mutating func appendInterpolation(_ values: [Date]) { list(values.map(SOQL.dateTimeLiteral)) }

        /// An `IN` list of booleans: `(true, false)`.
        public mutating func appendInterpolation(_ values: [Bool]) { list(values.map { $0 ? "true" : "false" }) }

        /// A string, or `null` for `nil`.
        public mutating func appendInterpolation(_ value: String?) { text += value.map { SOQL.quote($0, like: false) } ?? "null" }

        /// A number, or `null` for `nil`.
        public mutating func appendInterpolation<Number: BinaryInteger>(_ value: Number?) { text += value.map { String($0) } ?? "null" }

        /// A number, or `null` for `nil`.
        public mutating func appendInterpolation(_ value: Double?) { text += value.map(SOQL.numberLiteral) ?? "null" }

        /// A boolean, or `null` for `nil`.
        public mutating func appendInterpolation(_ value: Bool?) { text += value.map { $0 ? "true" : "false" } ?? "null" }

        /// A dateTime, or `null` for `nil`.
        public mutating func appendInterpolation(_ value: Date?) { text += value.map(SOQL.dateTimeLiteral) ?? "null" }

        private mutating func list(_ literals: [String]) { text += "(" + literals.joined(separator: ", ") + ")" }

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

    /// A decimal literal; `null` for NaN and infinities, which SOQL has no literal for.
    static func numberLiteral(_ value: Double) -> String { value.isFinite ? String(value) : "null" }

    /// `2026-01-31T09:30:00Z`, the year always in four digits.
    static func dateTimeLiteral(_ date: Date) -> String {
        let parts = HTTPDate.components(of: date)
        let digits = HTTPDate.digits
        return "\(digits(parts.year, 4))-\(digits(parts.month, 2))-\(digits(parts.day, 2))T\(digits(parts.hour, 2)):\(digits(parts.minute, 2)):\(digits(parts.second, 2))Z"
    }
}
