import Foundation

/// An HTTP response as a value: status, headers and the whole body.
public struct HTTPResponse: Sendable, Hashable, CustomStringConvertible {
    /// The status code, such as 200 or 503.
    public var status: Int
    /// Header fields.
    public var headers: HTTPHeaders
    /// The body; empty when there was none.
    public var body: Data

    /// Creates a response.
    public init(status: Int, headers: HTTPHeaders = [:], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// Whether the status is in the 2xx range.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// Status and body size; the body itself is left out because it may hold secrets.
    public var description: String { "HTTP \(status) (\(body.count) bytes)" }
}
