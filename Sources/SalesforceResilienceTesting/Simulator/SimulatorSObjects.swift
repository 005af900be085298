import Foundation
import SalesforceResilience

extension SalesforceSimulator {
    private static let rowLockMessage = "unable to obtain exclusive access to this record or 1 records"

    func create(_ type: String, _ request: HTTPRequest, state: inout SimulatorState) -> HTTPResponse {
        guard Self.isName(type) else { return Self.error(404, "NOT_FOUND", "The requested resource does not exist") }
        guard let fields = Self.object(request.body) else { return Self.error(400, "JSON_PARSER_ERROR", "Unexpected body") }
        if state.takeRowLock() { return Self.error(400, "UNABLE_TO_LOCK_ROW", Self.rowLockMessage) }
        let id = state.insert(type: type, fields: fields)
        return .json(201, #"{"id":"\#(id)","success":true,"errors":[]}"#)
    }

    func read(_ type: String, id: String, version: String, request: HTTPRequest, state: SimulatorState) -> HTTPResponse {
        guard let record = state.records[id], record.type == type, !record.deleted else {
            return Self.error(404, "NOT_FOUND", "The requested resource does not exist")
        }
        return .json(200, Self.render(record, fields: nil, version: version).description)
    }

    func update(_ type: String, id: String, _ request: HTTPRequest, state: inout SimulatorState) -> HTTPResponse {
        guard let fields = Self.object(request.body) else { return Self.error(400, "JSON_PARSER_ERROR", "Unexpected body") }
        guard let record = state.records[id], record.type == type, !record.deleted else {
            return Self.error(404, "NOT_FOUND", "The requested resource does not exist")
        }
        if state.takeRowLock() { return Self.error(400, "UNABLE_TO_LOCK_ROW", Self.rowLockMessage) }
        state.merge(id: id, fields: fields)
        return HTTPResponse(status: 204)
    }

    func delete(_ type: String, id: String, state: inout SimulatorState) -> HTTPResponse {
        guard let record = state.records[id], record.type == type, !record.deleted else {
            return Self.error(404, "ENTITY_IS_DELETED", "entity is deleted")
        }
        if state.takeRowLock() { return Self.error(400, "UNABLE_TO_LOCK_ROW", Self.rowLockMessage) }
        state.records[id]?.deleted = true
        return HTTPResponse(status: 204)
    }

    func upsert(_ type: String, field: String, value: String, _ request: HTTPRequest, version: String, state: inout SimulatorState) -> HTTPResponse {
        guard Self.isName(type), Self.isName(field) else { return Self.error(404, "NOT_FOUND", "The requested resource does not exist") }
        guard let fields = Self.object(request.body) else { return Self.error(400, "JSON_PARSER_ERROR", "Unexpected body") }
        if state.takeRowLock() { return Self.error(400, "UNABLE_TO_LOCK_ROW", Self.rowLockMessage) }
        switch Self.save(type: type, field: field, value: value, fields: fields, state: &state) {
        case .created(let id): return .json(201, #"{"id":"\#(id)","success":true,"errors":[],"created":true}"#)
        case .updated(let id): return .json(200, #"{"id":"\#(id)","success":true,"errors":[],"created":false}"#)
        case .multiple(let ids):
            let urls = ids.map { #""/services/data/\#(version)/sobjects/\#(type)/\#($0)""# }
            return .json(300, "[" + urls.joined(separator: ",") + "]")
        case .failed(let code, let message, let fields):
            return Self.error(400, code, message, fields: fields)
        }
    }

    func upsertCollection(_ type: String, field: String, _ request: HTTPRequest, state: inout SimulatorState) -> HTTPResponse {
        guard Self.isName(type), Self.isName(field) else { return Self.error(404, "NOT_FOUND", "The requested resource does not exist") }
        guard let body = Self.object(request.body), case .array(let items)? = body["records"] else {
            return Self.error(400, "JSON_PARSER_ERROR", "Expected {\"allOrNone\", \"records\"}")
        }
        guard items.count <= SalesforceClient.collectionsChunkSize else {
            return Self.error(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
        }
        let allOrNone = body["allOrNone"] == .bool(true)
        // Only an all-or-none request can roll back; copying the state for every other request
        // would copy every stored record (copy-on-write) once per call.
        let snapshot = allOrNone ? state : nil
        var answers: [String] = []
        var anyFailed = false
        for item in items {
            guard var fields = item.objectValue, let value = fields[field]?.stringValue, !value.isEmpty else {
                answers.append(Self.recordError("MISSING_ARGUMENT", "\(field) not specified", [field]))
                anyFailed = true
                continue
            }
            fields["attributes"] = nil
            fields[field] = nil
            if state.takeRowLock() {
                answers.append(Self.recordError("UNABLE_TO_LOCK_ROW", Self.rowLockMessage, []))
                anyFailed = true
                continue
            }
            if let failure = state.takeRecordFailure(value) {
                answers.append(Self.recordError(failure.code, failure.message, []))
                anyFailed = true
                continue
            }
            switch Self.save(type: type, field: field, value: value, fields: fields, state: &state) {
            case .created(let id): answers.append(#"{"id":"\#(id)","success":true,"errors":[],"created":true}"#)
            case .updated(let id): answers.append(#"{"id":"\#(id)","success":true,"errors":[],"created":false}"#)
            case .multiple:
                answers.append(Self.recordError("DUPLICATE_EXTERNAL_ID", "\(field): more than one record found for external id field", [field]))
                anyFailed = true
            case .failed(let code, let message, let fields):
                answers.append(Self.recordError(code, message, fields))
                anyFailed = true
            }
        }
        if let snapshot, anyFailed {
            let (rowLocks, failures) = (state.rowLocksToInject, state.recordFailures)
            state = snapshot
            (state.rowLocksToInject, state.recordFailures) = (rowLocks, failures)
            answers = items.map { _ in Self.recordError("ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header", []) }
        }
        return .json(200, "[" + answers.joined(separator: ",") + "]")
    }

    enum SaveOutcome {
        case created(String)
        case updated(String)
        case multiple([String])
        case failed(code: String, message: String, fields: [String])
    }

    /// Upsert semantics shared by the single-record and collections endpoints.
    static func save(type: String, field: String, value: String, fields: [String: JSONValue], state: inout SimulatorState) -> SaveOutcome {
        if let given = fields[field], given != .string(value) {
            return .failed(code: "INVALID_FIELD", message: "The external id field \(field) in the body does not match the URL", fields: [field])
        }
        for name in fields.keys where !isName(name) {
            return .failed(code: "INVALID_FIELD", message: "No such column '\(name)' on sobject of type \(type)", fields: [name])
        }
        let matches = state.matches(type: type, field: field, value: value)
        switch matches.count {
        case 0:
            var stored = fields
            stored[field] = .string(value)
            state.upsertSaves[type + "." + field, default: [:]][value, default: 0] += 1
            return .created(state.insert(type: type, fields: stored))
        case 1:
            state.merge(id: matches[0], fields: fields)
            state.upsertSaves[type + "." + field, default: [:]][value, default: 0] += 1
            return .updated(matches[0])
        default:
            return .multiple(matches)
        }
    }

    static func render(_ record: SimulatorRecord, fields: [String]?, version: String) -> JSONValue {
        var object: [String: JSONValue] = ["attributes": .object(["type": .string(record.type), "url": .string("/services/data/\(version)/sobjects/\(record.type)/\(record.id)")])]
        if let fields {
            for field in fields { object[field] = field.lowercased() == "id" ? .string(record.id) : record.fields[field] ?? .null }
        } else {
            object.merge(record.fields) { $1 }
            object["Id"] = .string(record.id)
        }
        return .object(object)
    }

    static func recordError(_ code: String, _ message: String, _ fields: [String]) -> String {
        let entry: JSONValue = .object(["statusCode": .string(code), "message": .string(message), "fields": .array(fields.map(JSONValue.string))])
        return #"{"success":false,"errors":[\#(entry.description)]}"#
    }

    static func object(_ body: Data?) -> [String: JSONValue]? {
        guard let body, let value = try? JSONDecoder().decode(JSONValue.self, from: body) else { return nil }
        return value.objectValue
    }

    static func isName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}
