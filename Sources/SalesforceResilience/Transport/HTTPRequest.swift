import Foundation

/// An HTTP request as a value: what to send, not how.
public struct HTTPRequest: Sendable, Hashable, CustomStringConvertible {
    /// The request method.
    public var method: HTTPMethod
    /// The absolute URL.
    public var url: URL
    /// Header fields.
    public var headers: HTTPHeaders
    /// The body, if any.
    public var body: Data?
    /// The longest this attempt may take, or `nil` for the transport's own limit.
    ///
    /// The ``Pipeline`` sets it to the time left before the call's ``RequestContext/deadline``.
    /// A transport that ``HTTPTransport/honoursRequestTimeout`` ends the attempt by then with an
    /// ambiguous ``TransportError`` of kind ``TransportError/Kind/timedOut``.
    public var timeout: Duration?

    /// Creates a request.
    public init(method: HTTPMethod, url: URL, headers: HTTPHeaders = [:], body: Data? = nil, timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// `METHOD url` without query string values that could carry secrets.
    public var description: String { "\(method) \(Redaction.redactURL(url))" }
}
