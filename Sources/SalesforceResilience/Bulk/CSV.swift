import Foundation

/// RFC 4180 CSV as Bulk API 2.0 uses it: comma-separated, LF line endings, fields quoted when
/// they hold a comma, a quote, CR or LF, or leading or trailing spaces (which Salesforce would
/// otherwise trim), with quotes doubled inside.
public enum CSV {
    /// A CSV body that could not be read.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// What was wrong.
        public var message: String
        /// The 1-based line where it was noticed.
        public var line: Int

        /// `CSV error on line N: message`.
        public var description: String { "CSV error on line \(line): \(message)" }
    }

    /// `rows` as CSV text, each row ended by LF.
    public static func encode(_ rows: [[String]]) -> String {
        var text = ""
        for row in rows {
            text += row.map(field).joined(separator: ",")
            text += "\n"
        }
        return text
    }

    /// One field, quoted when it must be. Decided on Unicode scalars, not `Character`s: a comma
    /// or quote followed by a combining mark or a zero-width joiner forms one `Character` with
    /// it, which would hide the comma from a `Character` comparison but not from Salesforce.
    public static func field(_ value: String) -> String {
        let scalars = value.unicodeScalars
        let needsQuotes = scalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
            || scalars.first == " " || scalars.last == " "
        guard needsQuotes else { return value }
        // Doubled scalar by scalar too: a quote that begins a `Character` with a combining mark
        // is still a quote to the reader.
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in scalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }

    /// The rows of `text`. Accepts LF and CRLF line endings; a final line ending is optional.
    ///
    /// - Throws: ``ParseError`` for an unterminated quoted field or text after a closing quote.
    public static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = String.UnicodeScalarView()
        var quoted = false
        var afterQuote = false
        var line = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar?
        func next() -> Unicode.Scalar? {
            if let value = pending { pending = nil; return value }
            return scalars.next()
        }
        var rowStarted = false
        while let scalar = next() {
            rowStarted = true
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" { field.append("\"") } else { quoted = false; afterQuote = true; pending = following }
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                row.append(String(field))
                field = String.UnicodeScalarView()
                afterQuote = false
            case "\r":
                if let following = next(), following != "\n" { pending = following }
                fallthrough
            case "\n":
                row.append(String(field))
                rows.append(row)
                row = []
                field = String.UnicodeScalarView()
                afterQuote = false
                rowStarted = false
                line += 1
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
            default:
                if afterQuote { throw ParseError(message: "text after a closing quote", line: line) }
                field.append(scalar)
            }
        }
        if quoted { throw ParseError(message: "unterminated quoted field", line: line) }
        if rowStarted {
            row.append(String(field))
            rows.append(row)
        }
        return rows
    }

    /// The rows of `text` as dictionaries keyed by the header row.
    ///
    /// - Throws: ``ParseError`` when a row has a different number of fields than the header.
    public static func parseRecords(_ text: String) throws -> (header: [String], records: [[String: String]]) {
        let rows = try parse(text)
        guard let header = rows.first else { return ([], []) }
        var records: [[String: String]] = []
        records.reserveCapacity(rows.count - 1)
        for (offset, row) in rows.dropFirst().enumerated() {
            guard row.count == header.count else {
                throw ParseError(message: "\(row.count) fields where the header has \(header.count)", line: offset + 2)
            }
            records.append(Dictionary(zip(header, row), uniquingKeysWith: { first, _ in first }))
        }
        return (header, records)
    }
}
