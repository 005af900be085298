import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The one place that decides what a response or an error means, in the runbook's terms.
///
/// The error code in the body wins over the HTTP status — Salesforce returns
/// `UNABLE_TO_LOCK_ROW` with 400, 409 or 500 — with one exception: a 429 is throttling whatever
/// its body says. `REQUEST_LIMIT_EXCEEDED` is read by its message: `TotalRequests` is the daily
/// allowance; anything else (the concurrency limits, or a message not seen before) is
/// ``FailureCategory/requestLimited``, retried after a pause. Bodies that are not Salesforce JSON
/// (an HTML page from a proxy, an empty or truncated body, invalid UTF-8) fall back to the status.
public struct OutcomeClassifier: Sendable {
    /// Categories for error codes, consulted before the built-in table; use it to treat an
    /// org-specific code differently.
    public var overrides: [String: FailureCategory]

    /// Creates a classifier.
    public init(overrides: [String: FailureCategory] = [:]) {
        self.overrides = overrides
    }

    /// Error codes and their categories, matched case-sensitively as Salesforce sends them.
    public static let knownCodes: [String: FailureCategory] = {
        var table: [String: FailureCategory] = [
            "INVALID_SESSION_ID": .sessionExpired,
            "UNABLE_TO_LOCK_ROW": .rowLockContention,
            "SERVER_UNAVAILABLE": .transientServer,
            // OAuth token endpoint errors.
            "invalid_grant": .authenticationFailed,
            "invalid_client": .authenticationFailed,
            "invalid_client_id": .authenticationFailed,
            "unsupported_grant_type": .authenticationFailed,
            "invalid_request": .authenticationFailed,
            "inactive_user": .authenticationFailed,
            "inactive_org": .authenticationFailed,
            "unauthorized_client": .authenticationFailed,
            "rate_limit_exceeded": .throttled,
        ]
        for code in [
            "MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "JSON_PARSER_ERROR", "REQUIRED_FIELD_MISSING",
            "FIELD_CUSTOM_VALIDATION_EXCEPTION", "DUPLICATE_VALUE", "NOT_FOUND", "INVALID_CROSS_REFERENCE_KEY",
            "INVALID_FIELD_FOR_INSERT_UPDATE", "STRING_TOO_LONG", "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "INSUFFICIENT_ACCESS_OR_READONLY", "INSUFFICIENT_ACCESS", "ENTITY_IS_DELETED", "METHOD_NOT_ALLOWED",
            "INVALID_QUERY_LOCATOR", "API_DISABLED_FOR_ORG", "FIELD_INTEGRITY_EXCEPTION",
        ] {
            table[code] = .clientError
        }
        return table
    }()

    // MARK: Responses

    /// The category of a failed response, or `nil` for a 2xx.
    public func classify(_ response: HTTPResponse) -> FailureCategory? {
        if response.isSuccess { return nil }
        let errors = Self.parseErrors(response.body)
        return category(status: response.status, errors: errors)
    }

    /// The typed error for a failed response, or `nil` for a 2xx.
    public func error(for response: HTTPResponse, operation: String) -> SalesforceError? {
        if response.isSuccess { return nil }
        let errors = Self.parseErrors(response.body)
        let category = category(status: response.status, errors: errors)
        // Salesforce may echo a session id inside a message: nothing kept here may carry one.
        let redacted = errors.map { SalesforceAPIError(message: Redaction.redact($0.message), errorCode: $0.errorCode, fields: $0.fields) }
        let first = redacted.first
        return SalesforceError(
            category: category,
            status: response.status,
            errorCode: first?.errorCode,
            message: first?.message ?? Self.summary(of: response),
            fields: first?.fields ?? [],
            errors: redacted,
            operation: operation,
            rawBody: Self.rawText(response.body),
            headers: response.headers,
            body: Redaction.redact(response.body)
        )
    }

    /// The category of one record's errors in an sObject Collections or Bulk answer, where the
    /// request as a whole succeeded: the same table, read as a 400, where in addition
    /// `UNKNOWN_EXCEPTION` (an internal error of Salesforce's while saving that record) is
    /// ``FailureCategory/transientServer``: retried, with a bound, rather than given up at once.
    public func classify(recordErrors errors: [SalesforceAPIError]) -> FailureCategory {
        if !errors.contains(where: { overrides[$0.errorCode] != nil }), errors.contains(where: { Self.recordTransientCodes.contains($0.errorCode) }) {
            return .transientServer
        }
        return category(status: 400, errors: errors)
    }

    /// ``classify(recordErrors:)`` for a record of an upsert by external id, where
    /// `DUPLICATE_VALUE` means two upserts of one new external id raced to create it: the record
    /// exists now and the next upsert updates it, so it is retried as contention
    /// (``FailureCategory/rowLockContention``). A duplicate on another unique field fails the same
    /// way every time and is dead-lettered when its attempts run out.
    public func classify(upsertRecordErrors errors: [SalesforceAPIError]) -> FailureCategory {
        if overrides["DUPLICATE_VALUE"] == nil, errors.contains(where: { $0.errorCode == "DUPLICATE_VALUE" }) { return .rowLockContention }
        return classify(recordErrors: errors)
    }

    /// Per-record codes a retry can fix: Salesforce's internal error while saving one record.
    static let recordTransientCodes: Set<String> = ["UNKNOWN_EXCEPTION"]

    private func category(status: Int, errors: [SalesforceAPIError]) -> FailureCategory {
        // A gateway's 429 may carry REQUEST_LIMIT_EXCEEDED; it is still a request to slow down.
        if status == 429 { return .throttled }
        // Row-lock contention often arrives wrapped: a trigger, flow or process that could not
        // lock a related row fails the save with its own code (CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY,
        // CANNOT_EXECUTE_FLOW_TRIGGER) and the lock error in its message.
        if errors.contains(where: { overrides[$0.errorCode] == nil && $0.message.contains("UNABLE_TO_LOCK_ROW") }) {
            return .rowLockContention
        }
        for error in errors {
            if let category = overrides[error.errorCode] { return category }
            if error.errorCode == "REQUEST_LIMIT_EXCEEDED" { return Self.requestLimitCategory(message: error.message) }
            if let category = Self.knownCodes[error.errorCode] { return category }
        }
        switch status {
        case 401: return .sessionExpired
        case 429: return .throttled
        case 408, 500, 502, 503, 504: return .transientServer
        case 501, 505: return .clientError
        case 506..<600: return .transientServer
        case 300..<500: return .clientError
        default: return .unknown
        }
    }

    /// `REQUEST_LIMIT_EXCEEDED` reports several limits under one code. Only the daily allowance
    /// ("TotalRequests Limit exceeded.") is worth stopping for: it is a rolling 24-hour window.
    /// The concurrency limits clear in seconds, and an unknown message is safest treated as a
    /// longer throttle than a stop of minutes.
    static func requestLimitCategory(message: String) -> FailureCategory {
        message.range(of: "TotalRequests", options: .caseInsensitive) != nil ? .apiLimitExceeded : .requestLimited
    }

    // MARK: Errors

    /// The category of anything thrown by a transport or the chain: ``FailureCategory/init(of:)``.
    /// A ``SalesforceError`` carries the category its classifier gave it when it was made.
    public func classify(_ error: any Error) -> FailureCategory {
        FailureCategory(of: error)
    }

    // MARK: Bodies

    /// The error entries of a body, tolerating every shape Salesforce and its proxies send:
    /// an array of errors, a single error object, or anything else (no entries).
    public static func parseErrors(_ body: Data) -> [SalesforceAPIError] {
        guard let first = body.first(where: { !$0.isASCIIWhitespace }), first == UInt8(ascii: "[") || first == UInt8(ascii: "{") else {
            return []
        }
        let decoder = JSONDecoder()
        if let list = try? decoder.decode([LenientEntry].self, from: body) {
            return list.compactMap(\.error)
        }
        if let single = try? decoder.decode(SalesforceAPIError.self, from: body) {
            return [single]
        }
        return []
    }

    /// A one-line description of a body that carried no Salesforce error.
    static func summary(of response: HTTPResponse) -> String {
        let contentType = response.headers["Content-Type"] ?? "no content type"
        if response.body.isEmpty { return "HTTP \(response.status) with an empty body" }
        var text = "HTTP \(response.status) with a non-Salesforce body (\(contentType), \(response.body.count) bytes)"
        if let title = htmlTitle(in: response.body) { text += ": \(title)" }
        return text
    }

    static func rawText(_ body: Data) -> String {
        let prefix = body.prefix(SalesforceError.rawBodyLimit)
        var text = Redaction.redact(String(decoding: prefix, as: UTF8.self))
        if body.count > prefix.count { text += "… (\(body.count) bytes)" }
        return text
    }

    /// The first `<title>…</title>` of an HTML page, found in one linear pass (a regex here was
    /// quadratic on a page of repeated `<title` openers: 300 ms for 8 KB).
    static func htmlTitle(in body: Data) -> String? {
        let bytes = Array(body.prefix(8_192))
        func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
        func matches(_ word: String, at index: Int) -> Bool {
            let expected = Array(word.utf8)
            guard index + expected.count <= bytes.count else { return false }
            return expected.indices.allSatisfy { lower(bytes[index + $0]) == expected[$0] }
        }
        guard let open = bytes.indices.first(where: { bytes[$0] == UInt8(ascii: "<") && matches("<title", at: $0) }),
              let close = bytes[(open + 6)...].firstIndex(of: UInt8(ascii: ">"))
        else { return nil }
        let start = close + 1
        guard let end = bytes[start...].firstIndex(of: UInt8(ascii: "<")), end - start <= 200, matches("</title>", at: end) else { return nil }
        let title = String(decoding: bytes[start..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return title.isEmpty ? nil : Redaction.redact(title)
    }
}

/// An array element that may or may not be an error (a 300 lists record URLs as strings).
private struct LenientEntry: Decodable {
    let error: SalesforceAPIError?

    init(from decoder: any Decoder) throws {
        error = try? SalesforceAPIError(from: decoder)
    }
}

extension UInt8 {
    fileprivate var isASCIIWhitespace: Bool {
        self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D
    }
}

extension FailureCategory {
    /// The category of anything thrown by a transport or the chain. Errors carry what decides it:
    /// a ``SalesforceError`` its ``SalesforceError/category`` (given by the client's
    /// ``OutcomeClassifier`` when the response was classified, overrides included), a
    /// ``TransportError`` whether the request may have been sent, and so on; so middleware need
    /// no classifier of their own.
    public init(of error: any Error) {
        self = switch error {
        case let error as SalesforceError: error.category
        case let error as TransportError: error.delivery == .notSent ? .transientNetwork : .ambiguousNetwork
        case is CircuitOpenError: .circuitOpen
        case is DeadlineExceededError: .deadlineExceeded
        case is AuthenticationError: .authenticationFailed
        // A busy or unreadable store sent nothing and may clear; a file that is not ours, or
        // another app's credential, is a configuration to fix.
        case let error as CredentialStoreError: error.isTransient ? .transientNetwork : .clientError
        case is AdmissionError: .shed
        case let error as SalesforceClientError:
            if case .unexpectedResponse = error { .unknown } else { .clientError }
        case is CancellationError: .cancelled
        case let error as BulkIngestError: FailureCategory(of: error.reason)
        case let error as URLError: FailureCategory(of: URLSessionTransport.map(error))
        default: .unknown
        }
    }
}
