import Foundation
import SalesforceResilience

/// A Bulk API 2.0 job held by the simulator.
struct SimulatorBulkJob: Sendable {
    var id: String
    var kind: String  // "ingest" or "query"
    var object: String
    var operation: String
    var externalIdField: String?
    var state: BulkJobState = .open
    var csv = ""
    var closedAt: ResilienceInstant?
    var errorMessage: String?
    var failWith: (message: String, afterRows: Int)?
    var header: [String] = []
    var successful: [[String]] = []
    var failed: [[String]] = []
    var unprocessed: [[String]] = []
    var query: SimulatorSOQL?
    var queryRows: [[String]] = []
}

extension SalesforceSimulator {
    func bulk(_ request: HTTPRequest, _ rest: [String], version: String, state: inout SimulatorState, now: ResilienceInstant) -> (String, HTTPResponse) {
        let kind = rest[0]
        guard kind == "ingest" || kind == "query" else { return ("unknown", Self.error(404, "NOT_FOUND", "The requested resource does not exist")) }
        if rest.count == 1 {
            guard request.method == .post else { return ("unknown", Self.error(405, "METHOD_NOT_ALLOWED", "method not allowed")) }
            return ("POST bulk \(kind)", createJob(kind: kind, request, state: &state, now: now))
        }
        let id = rest[1]
        guard state.bulkJobs[id]?.kind == kind else { return ("bulk unknown job", Self.error(404, "NOT_FOUND", "job \(id) not found")) }
        advance(id, state: &state, now: now)
        switch (request.method, rest.count > 2 ? rest[2] : nil) {
        case (.get, nil):
            return ("GET bulk \(kind) status", .json(200, info(state.bulkJobs[id]!)))
        case (.patch, nil):
            return ("PATCH bulk \(kind) state", changeState(id, request, state: &state, now: now))
        case (.put, "batches") where kind == "ingest":
            guard state.bulkJobs[id]!.state == .open else { return ("PUT bulk upload", Self.error(400, "INVALIDJOBSTATE", "job is not Open")) }
            state.bulkJobs[id]!.csv += String(decoding: request.body ?? Data(), as: UTF8.self)
            return ("PUT bulk upload", HTTPResponse(status: 201))
        case (.get, let file?) where kind == "ingest" && ["successfulResults", "failedResults", "unprocessedrecords"].contains(file):
            let job = state.bulkJobs[id]!
            let (header, rows): ([String], [[String]]) = switch file {
            case "successfulResults": (["sf__Id", "sf__Created"] + job.header, job.successful)
            case "failedResults": (["sf__Id", "sf__Error"] + job.header, job.failed)
            default: (job.header, job.unprocessed)
            }
            let ordered = state.bulkResultShuffleSeed.map { Self.shuffled(rows, seed: $0) } ?? rows
            return ("GET bulk results", HTTPResponse(status: 200, headers: ["Content-Type": "text/csv"], body: Data(CSV.encode([header] + ordered).utf8)))
        case (.get, "results") where kind == "query":
            return ("GET bulk query results", queryResults(id, request, state: state))
        default:
            return ("unknown", Self.error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
    }

    private func createJob(kind: String, _ request: HTTPRequest, state: inout SimulatorState, now: ResilienceInstant) -> HTTPResponse {
        guard let body = Self.object(request.body) else { return Self.error(400, "JSON_PARSER_ERROR", "Unexpected body") }
        state.bulkJobCounter += 1
        let id = "750SIM" + String(format: "%09d", state.bulkJobCounter) + "AAA"
        var job: SimulatorBulkJob
        if kind == "ingest" {
            guard let object = body["object"]?.stringValue, Self.isName(object),
                  let operation = body["operation"]?.stringValue, BulkIngestOperation(rawValue: operation) != nil
            else { return Self.error(400, "INVALIDJOB", "object and a valid operation are required") }
            let external = body["externalIdFieldName"]?.stringValue
            if operation == "upsert" && external == nil { return Self.error(400, "INVALIDJOB", "externalIdFieldName is required for upsert") }
            job = SimulatorBulkJob(id: id, kind: kind, object: object, operation: operation, externalIdField: external)
        } else {
            guard let text = body["query"]?.stringValue else { return Self.error(400, "INVALIDJOB", "query is required") }
            guard case .success(let query) = SimulatorSOQL.parse(text) else { return Self.error(400, "MALFORMED_QUERY", "unsupported query") }
            job = SimulatorBulkJob(id: id, kind: kind, object: query.type, operation: body["operation"]?.stringValue ?? "query", query: query)
            job.state = .uploadComplete
            job.closedAt = now
        }
        if let message = state.failNextBulkJob {
            job.failWith = message
            state.failNextBulkJob = nil
        }
        state.bulkJobs[id] = job
        return .json(200, info(job))
    }

    private func changeState(_ id: String, _ request: HTTPRequest, state: inout SimulatorState, now: ResilienceInstant) -> HTTPResponse {
        let target = Self.object(request.body)?["state"]?.stringValue
        var job = state.bulkJobs[id]!
        switch target {
        case "UploadComplete" where job.state == .open:
            job.state = .uploadComplete
            job.closedAt = now
        case "UploadComplete" where job.state != .aborted && job.state != .failed:
            break  // a repeated close is harmless
        case "Aborted" where !job.state.isTerminal:
            job.state = .aborted
            job.unprocessed = (try? CSV.parse(job.csv).dropFirst().map { $0 }) ?? []
            job.header = (try? CSV.parse(job.csv).first) ?? []
        case "Aborted":
            break
        default:
            return Self.error(400, "INVALIDJOBSTATE", "cannot change \(job.state.rawValue) to \(target ?? "nothing")")
        }
        state.bulkJobs[id] = job
        return .json(200, info(job))
    }

    /// Moves a job along on the clock: 1 s after closing it is `InProgress`, after
    /// ``SimulatorOptions/bulkProcessingTime`` it is processed.
    private func advance(_ id: String, state: inout SimulatorState, now: ResilienceInstant) {
        guard var job = state.bulkJobs[id], let closedAt = job.closedAt, !job.state.isTerminal else { return }
        if job.state == .uploadComplete, now - closedAt >= .seconds(1) { job.state = .inProgress }
        if job.state == .inProgress, now - closedAt >= options.bulkProcessingTime {
            if let failure = job.failWith {
                let rows = (try? CSV.parse(job.csv)) ?? []
                if job.kind == "ingest" { process(&job, rows: Array(rows.prefix(1 + failure.afterRows)), state: &state) }
                job.state = .failed
                job.errorMessage = failure.message
                job.header = rows.first ?? []
                job.unprocessed = Array(rows.dropFirst(1 + failure.afterRows))
            } else if job.kind == "ingest" {
                process(&job, rows: (try? CSV.parse(job.csv)) ?? [], state: &state)
            } else if let query = job.query {
                job.header = query.fields
                job.queryRows = state.live(query.type).filter(query.matcher()).prefix(query.limit ?? Int.max).map { record in
                    query.fields.map { field in field.lowercased() == "id" ? record.id : Self.csvText(record.fields[field] ?? .null) }
                }
                job.state = .jobComplete
            }
        }
        state.bulkJobs[id] = job
    }

    /// Saves `rows` (a header row, then data rows) as the job's operation and completes the job.
    private func process(_ job: inout SimulatorBulkJob, rows: [[String]], state: inout SimulatorState) {
        job.header = rows.first ?? []
        for values in rows.dropFirst() {
            let row = Dictionary(zip(job.header, values), uniquingKeysWith: { first, _ in first })
            if let failure = options.bulkRowValidator?(row) {
                job.failed.append(["", failure] + values)
                continue
            }
            var fields = row.mapValues(Self.jsonValue)
            switch job.operation {
            case "insert":
                job.successful.append([state.insert(type: job.object, fields: fields), "true"] + values)
            case "upsert":
                let field = job.externalIdField ?? ""
                guard let value = row[field], !value.isEmpty else {
                    job.failed.append(["", "MISSING_ARGUMENT:\(field) not specified"] + values)
                    continue
                }
                fields[field] = nil
                // Per-row errors as collections inject them, in sf__Error's CODE:message:fields form.
                if state.takeRowLock() {
                    job.failed.append(["", "UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--"] + values)
                    continue
                }
                if let failure = state.takeRecordFailure(value) {
                    job.failed.append(["", "\(failure.code):\(failure.message):--"] + values)
                    continue
                }
                switch Self.save(type: job.object, field: field, value: value, fields: fields, state: &state) {
                case .created(let id): job.successful.append([id, "true"] + values)
                case .updated(let id): job.successful.append([id, "false"] + values)
                case .multiple: job.failed.append(["", "DUPLICATE_EXTERNAL_ID:more than one record found for \(field)"] + values)
                case .failed(let code, let message, _): job.failed.append(["", "\(code):\(message)"] + values)
                }
            default:  // update, delete, hardDelete by Id
                guard let id = row["Id"], let record = state.records[id], record.type == job.object, !record.deleted else {
                    job.failed.append([row["Id"] ?? "", "ENTITY_IS_DELETED:entity is deleted or does not exist"] + values)
                    continue
                }
                if job.operation == "update" {
                    fields["Id"] = nil
                    state.merge(id: id, fields: fields)
                } else {
                    state.records[id]?.deleted = true
                }
                job.successful.append([id, "false"] + values)
            }
        }
        job.state = .jobComplete
    }

    /// `rows` in an order fixed by `seed` (a Fisher–Yates shuffle).
    static func shuffled(_ rows: [[String]], seed: UInt64) -> [[String]] {
        var rows = rows
        let random = RandomSource(seed: seed)
        for index in stride(from: rows.count - 1, to: 0, by: -1) {
            rows.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return rows
    }

    private func queryResults(_ id: String, _ request: HTTPRequest, state: SimulatorState) -> HTTPResponse {
        let job = state.bulkJobs[id]!
        guard job.state == .jobComplete else { return Self.error(400, "INVALIDJOBSTATE", "job is \(job.state.rawValue)") }
        let items = URLComponents(url: request.url, resolvingAgainstBaseURL: false)?.queryItems ?? []
        let maxRecords = items.first { $0.name == "maxRecords" }?.value.flatMap(Int.init) ?? 50_000
        let offset = items.first { $0.name == "locator" }?.value.flatMap { Int($0, radix: 36) } ?? 0
        let end = min(job.queryRows.count, offset + max(1, maxRecords))
        let page = offset < end ? Array(job.queryRows[offset..<end]) : []
        let locator = end < job.queryRows.count ? String(end, radix: 36) : "null"
        return HTTPResponse(
            status: 200, headers: ["Content-Type": "text/csv", "Sforce-Locator": locator, "Sforce-NumberOfRecords": "\(page.count)"],
            body: Data(CSV.encode([job.header] + page).utf8))
    }

    private func info(_ job: SimulatorBulkJob) -> String {
        var object: [String: JSONValue] = [
            "id": .string(job.id), "state": .string(job.state.rawValue), "object": .string(job.object), "operation": .string(job.operation),
            "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA",
            "numberRecordsProcessed": .number(Double(job.successful.count + job.failed.count + job.queryRows.count)),
            "numberRecordsFailed": .number(Double(job.failed.count)),
        ]
        if let external = job.externalIdField { object["externalIdFieldName"] = .string(external) }
        if let message = job.errorMessage { object["errorMessage"] = .string(message) }
        return JSONValue.object(object).description
    }

    /// A CSV cell as Salesforce stores it: numbers and booleans typed, `#N/A` null, the rest text.
    static func jsonValue(_ text: String) -> JSONValue {
        if text == "#N/A" { return .null }
        if text == "true" || text == "false" { return .bool(text == "true") }
        let looksNumeric = !text.isEmpty && (text == "0" || !text.hasPrefix("0") || text.hasPrefix("0.")) && !text.hasPrefix("+")
        if looksNumeric, let number = Double(text), number.isFinite, !text.contains("e"), !text.contains("E") { return .number(number) }
        return .string(text)
    }

    static func csvText(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .number(let number): number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        case .bool(let flag): flag ? "true" : "false"
        case .null: ""
        default: value.description
        }
    }
}
