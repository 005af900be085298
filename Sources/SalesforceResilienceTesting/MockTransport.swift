import Foundation
import SalesforceResilience

/// An ``HTTPTransport`` that answers from a script and records every request.
///
/// ```swift
/// let transport = MockTransport(responses: [
///     .success(.status(503, retryAfter: "2")),
///     .success(.json(200, #"{"id":"a01"}"#)),
/// ])
/// ```
public final class MockTransport: HTTPTransport {
    /// Answers a request; may throw a ``TransportError`` to simulate a network failure.
    public typealias Handler = @Sendable (HTTPRequest) async throws -> HTTPResponse

    /// What a script step produces.
    public typealias Step = Result<HTTPResponse, any Error>

    private struct State {
        var queue: [Step]
        var requests: [HTTPRequest] = []
    }

    private let state: Lock<State>
    private let fallback: Handler?

    /// Answers with `responses` in order, then with `fallback` (or throws
    /// ``MockTransportError/scriptExhausted`` when there is none).
    public init(responses: [Step] = [], fallback: Handler? = nil) {
        state = Lock(State(queue: responses))
        self.fallback = fallback
    }

    /// Answers every request with `handler`.
    public convenience init(handler: @escaping Handler) {
        self.init(responses: [], fallback: handler)
    }

    /// Appends steps to the script.
    public func enqueue(_ steps: Step...) {
        state.withLock { $0.queue.append(contentsOf: steps) }
    }

    /// Every request received, in order.
    public var requests: [HTTPRequest] { state.withLock { $0.requests } }

    /// The number of requests received.
    public var requestCount: Int { state.withLock { $0.requests.count } }

    /// `true` when there is no fallback handler: scripted steps answer at once. A handler may
    /// wait on anything, so with one the pipeline races the transport against the deadline.
    public var honoursRequestTimeout: Bool { fallback == nil }

    /// Records `request` and answers it from the script.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let step: Step? = state.withLock { state in
            state.requests.append(request)
            return state.queue.isEmpty ? nil : state.queue.removeFirst()
        }
        if let step { return try step.get() }
        guard let fallback else { throw MockTransportError.scriptExhausted(request.description) }
        return try await fallback(request)
    }
}

/// Misuse of a ``MockTransport`` in a test.
public enum MockTransportError: Error, Sendable, Equatable {
    /// A request arrived after the script ran out and no fallback was set.
    case scriptExhausted(String)
}

extension HTTPResponse {
    /// A response with a JSON body.
    public static func json(_ status: Int, _ json: String, headers: HTTPHeaders = [:]) -> HTTPResponse {
        var headers = headers
        headers["Content-Type"] = "application/json;charset=UTF-8"
        return HTTPResponse(status: status, headers: headers, body: Data(json.utf8))
    }

    /// A Salesforce error body: `[{"message", "errorCode", "fields"}]`.
    public static func salesforceError(_ status: Int, code: String, message: String = "error", fields: [String] = [], headers: HTTPHeaders = [:]) -> HTTPResponse {
        let entry = SalesforceAPIError(message: message, errorCode: code, fields: fields)
        let body = (try? JSONEncoder().encode([entry])) ?? Data()
        var headers = headers
        headers["Content-Type"] = "application/json;charset=UTF-8"
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// An empty-bodied response, optionally with `Retry-After`.
    public static func status(_ status: Int, retryAfter: String? = nil) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let retryAfter { headers["Retry-After"] = retryAfter }
        return HTTPResponse(status: status, headers: headers)
    }

    /// An HTML error page such as an edge proxy returns.
    public static func html(_ status: Int, title: String = "502 Bad Gateway") -> HTTPResponse {
        HTTPResponse(
            status: status, headers: ["Content-Type": "text/html"],
            body: Data("<html><head><title>\(title)</title></head><body><h1>\(title)</h1></body></html>".utf8))
    }
}
