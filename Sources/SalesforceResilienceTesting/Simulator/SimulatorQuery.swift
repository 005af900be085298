import Foundation
import SalesforceResilience

/// The SOQL subset the simulator understands:
/// `SELECT f1, f2 FROM Type [WHERE f = literal | WHERE f IN (literal, …)] [LIMIT n]`.
struct SimulatorSOQL: Equatable {
    var fields: [String]
    var type: String
    /// The field and the values it may hold (one for `=`, several for `IN`).
    var filter: (field: String, values: [JSONValue])?
    var limit: Int?

    static func == (lhs: SimulatorSOQL, rhs: SimulatorSOQL) -> Bool {
        lhs.fields == rhs.fields && lhs.type == rhs.type && lhs.limit == rhs.limit
            && lhs.filter?.field == rhs.filter?.field && lhs.filter?.values == rhs.filter?.values
    }

    /// Parses `text`, or returns the `MALFORMED_QUERY` message.
    static func parse(_ text: String) -> Result<SimulatorSOQL, QueryError> {
        var scanner = Tokens(text)
        guard scanner.keyword("SELECT") else { return .failure(.init("expected SELECT")) }
        var fields: [String] = []
        repeat {
            guard let field = scanner.name() else { return .failure(.init("expected a field name")) }
            fields.append(field)
        } while scanner.symbol(",")
        guard scanner.keyword("FROM"), let type = scanner.name() else { return .failure(.init("expected FROM and an object")) }
        var query = SimulatorSOQL(fields: fields, type: type)
        if scanner.keyword("WHERE") {
            guard let field = scanner.name() else { return .failure(.init("expected a field after WHERE")) }
            if scanner.symbol("="), let value = scanner.literal() {
                query.filter = (field, [value])
            } else if scanner.keyword("IN"), scanner.symbol("(") {
                var values: [JSONValue] = []
                repeat {
                    guard let value = scanner.literal() else { return .failure(.init("expected a value in the IN list")) }
                    values.append(value)
                } while scanner.symbol(",")
                guard scanner.symbol(")") else { return .failure(.init("expected ) after the IN list")) }
                query.filter = (field, values)
            } else {
                return .failure(.init("expected WHERE field = value or WHERE field IN (values)"))
            }
        }
        if scanner.keyword("LIMIT") {
            guard let limit = scanner.integer() else { return .failure(.init("expected a number after LIMIT")) }
            query.limit = limit
        }
        guard scanner.atEnd else { return .failure(.init("unexpected token: \(scanner.rest.prefix(20))")) }
        return .success(query)
    }

    init(fields: [String], type: String, filter: (field: String, values: [JSONValue])? = nil, limit: Int? = nil) {
        self.fields = fields
        self.type = type
        self.filter = filter
        self.limit = limit
    }

    /// Whether a record passes the `WHERE` clause.
    func matcher() -> (SimulatorRecord) -> Bool {
        guard let filter else { return { _ in true } }
        let wanted = Set(filter.values)
        let byID = filter.field.lowercased() == "id"
        return { record in wanted.contains(byID ? .string(record.id) : record.fields[filter.field] ?? .null) }
    }

    struct QueryError: Error { let message: String; init(_ message: String) { self.message = message } }

    /// A cursor over the query text.
    struct Tokens {
        private let scalars: [Unicode.Scalar]
        private var index = 0

        init(_ text: String) { scalars = Array(text.unicodeScalars) }

        var atEnd: Bool { mutating get { skipSpace(); return index >= scalars.count } }
        var rest: String { String(String.UnicodeScalarView(scalars[min(index, scalars.count)...])) }

        mutating func skipSpace() {
            while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        }

        mutating func keyword(_ word: String) -> Bool {
            skipSpace()
            let save = index
            guard let token = name(), token.uppercased() == word else {
                index = save
                return false
            }
            return true
        }

        mutating func name() -> String? {
            skipSpace()
            let start = index
            while index < scalars.count, scalars[index].isASCII, scalars[index].properties.isAlphabetic || ("0"..."9").contains(scalars[index]) || scalars[index] == "_" || scalars[index] == "." {
                index += 1
            }
            guard index > start, scalars[start].properties.isAlphabetic else {
                index = start
                return nil
            }
            return String(String.UnicodeScalarView(scalars[start..<index]))
        }

        mutating func symbol(_ symbol: Unicode.Scalar) -> Bool {
            skipSpace()
            guard index < scalars.count, scalars[index] == symbol else { return false }
            index += 1
            return true
        }

        mutating func integer() -> Int? {
            skipSpace()
            let start = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
            return index > start ? Int(String(String.UnicodeScalarView(scalars[start..<index]))) : nil
        }

        /// A string literal with Salesforce's escapes, a number, `true`, `false` or `null`.
        mutating func literal() -> JSONValue? {
            skipSpace()
            guard index < scalars.count else { return nil }
            if scalars[index] == "'" {
                index += 1
                var value = String.UnicodeScalarView()
                while index < scalars.count {
                    let scalar = scalars[index]
                    index += 1
                    if scalar == "'" { return .string(String(value)) }
                    if scalar == "\\" {
                        guard index < scalars.count else { return nil }
                        let escaped = scalars[index]
                        index += 1
                        switch escaped {
                        case "'", "\"", "\\": value.append(escaped)
                        case "n": value.append("\n")
                        case "r": value.append("\r")
                        case "t": value.append("\t")
                        case "b": value.append("\u{8}")
                        case "f": value.append("\u{C}")
                        default: return nil  // unknown escapes are an error in SOQL
                        }
                    } else {
                        value.append(scalar)
                    }
                }
                return nil  // unterminated
            }
            if let word = name() {
                switch word.lowercased() {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default: return nil
                }
            }
            let start = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." || scalars[index] == "-" { index += 1 }
            return Double(String(String.UnicodeScalarView(scalars[start..<index]))).map(JSONValue.number)
        }
    }
}

extension SalesforceSimulator {
    func query(_ request: HTTPRequest, all: Bool, version: String, state: inout SimulatorState) -> HTTPResponse {
        let q = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "q" }?.value ?? ""
        let parsed: SimulatorSOQL
        switch SimulatorSOQL.parse(q) {
        case .success(let query): parsed = query
        case .failure(let error): return Self.error(400, "MALFORMED_QUERY", error.message)
        }
        var rows = (state.order[parsed.type] ?? []).compactMap { state.records[$0] }.filter { all || !$0.deleted }
        rows = rows.filter(parsed.matcher())
        if let limit = parsed.limit { rows = Array(rows.prefix(limit)) }
        let rendered = rows.map { Self.render($0, fields: parsed.fields, version: version).objectValue ?? [:] }
        state.cursorCounter += 1
        let cursor = "01gSIM\(state.cursorCounter)"
        state.cursors[cursor] = rendered
        return page(cursor: cursor, offset: 0, version: version, state: &state)
    }

    func queryPage(cursor: String, version: String, state: inout SimulatorState) -> HTTPResponse {
        let parts = cursor.split(separator: "-")
        guard parts.count == 2, let offset = Int(parts[1]), offset >= 0, state.cursors[String(parts[0])] != nil else {
            return Self.error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        }
        return page(cursor: String(parts[0]), offset: offset, version: version, state: &state)
    }

    private func page(cursor: String, offset: Int, version: String, state: inout SimulatorState) -> HTTPResponse {
        let rows = state.cursors[cursor] ?? []
        // The offset comes from the URL: bounded before any arithmetic, so no value can trap.
        let start = min(offset, rows.count)
        let end = start + min(options.queryPageSize, rows.count - start)
        let slice = Array(rows[start..<end])
        var body: [String: JSONValue] = [
            "totalSize": .number(Double(rows.count)),
            "done": .bool(end >= rows.count),
            "records": .array(slice.map(JSONValue.object)),
        ]
        if end < rows.count {
            body["nextRecordsUrl"] = .string("/services/data/\(version)/query/\(cursor)-\(end)")
        } else {
            state.cursors[cursor] = nil
        }
        return .json(200, JSONValue.object(body).description)
    }
}
