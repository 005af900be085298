import Foundation

/// A failed Salesforce response, classified: everything needed to decide and to debug.
///
/// It never contains an access or refresh token: the raw body is redacted and truncated.
public struct SalesforceError: Error, Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The most bytes of the body kept in ``rawBody``.
    public static let rawBodyLimit = 2_048

    /// The runbook category.
    public var category: FailureCategory
    /// The HTTP status.
    public var status: Int
    /// The first error code in the body, if the body had one.
    public var errorCode: String?
    /// The first message in the body, or a summary when the body was not Salesforce JSON.
    public var message: String
    /// The fields the first error concerns.
    public var fields: [String]
    /// Every entry of the error body, in order.
    public var errors: [SalesforceAPIError]
    /// The operation that failed, as named in its ``RequestContext``.
    public var operation: String
    /// The body as text: lossy UTF-8, credentials redacted, at most ``rawBodyLimit`` bytes.
    public var rawBody: String
    /// The response headers (for `Retry-After` and `Sforce-Limit-Info`).
    public var headers: HTTPHeaders {
        didSet { retryAfter = headers["Retry-After"].flatMap(RetryAfter.init) }
    }
    /// The `Retry-After` header, parsed once when the error was made; `nil` when absent or unreadable.
    public private(set) var retryAfter: RetryAfter?
    /// The full response body, for callers that parse specific shapes (a 300's list of matches).
    public var body: Data

    /// Creates an error.
    public init(
        category: FailureCategory, status: Int, errorCode: String?, message: String,
        fields: [String] = [], errors: [SalesforceAPIError] = [], operation: String,
        rawBody: String = "", headers: HTTPHeaders = [:], body: Data = Data()
    ) {
        self.category = category
        self.status = status
        self.errorCode = errorCode
        self.message = message
        self.fields = fields
        self.errors = errors
        self.operation = operation
        self.rawBody = rawBody
        self.headers = headers
        self.retryAfter = headers["Retry-After"].flatMap(RetryAfter.init)
        self.body = body
    }

    /// The runbook's decision.
    public var action: RunbookAction { category.action }

    /// The raw `Retry-After` header, if the server sent one.
    public var retryAfterHeader: String? { headers["Retry-After"] }

    /// Reflection that shows what ``description`` shows, so `dump(error)` prints no secret: headers
    /// through their redacting description, the body as a size.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "category": category, "status": status, "errorCode": errorCode as Any, "message": Redaction.redact(message),
            "fields": fields, "errors": errors.map { "\($0.errorCode): \(Redaction.redact($0.message))" }, "operation": operation,
            "rawBody": rawBody, "headers": headers.description, "body": "\(body.count) bytes",
        ])
    }

    /// `operation: HTTP status CODE: message [fields] (category → action)`.
    public var description: String {
        var text = "\(operation): HTTP \(status)"
        if let errorCode { text += " \(errorCode)" }
        text += ": \(Redaction.redact(message))"
        if !fields.isEmpty { text += " [\(fields.joined(separator: ", "))]" }
        return text + " (\(category.rawValue) → \(action.rawValue))"
    }
}
