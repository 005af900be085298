/// Sends one HTTP request and returns the response: the only way the library reaches the network.
///
/// A transport performs exactly one attempt. It returns every response the server produced,
/// whatever the status (a 503 is a response, not an error), and throws a ``TransportError``
/// when no response arrived. Retries, refreshes and breakers live in ``Middleware``.
///
/// A transport that ends every attempt within ``HTTPRequest/timeout`` says so with
/// ``honoursRequestTimeout``; the ``Pipeline`` then hands it the time left before the call's
/// deadline and calls it directly. Any other transport is raced against a timer by the pipeline,
/// which costs a child task or two per attempt.
///
/// ```swift
/// struct Recording: HTTPTransport {
///     let inner: any HTTPTransport
///     func send(_ request: HTTPRequest) async throws -> HTTPResponse {
///         print(request)
///         return try await inner.send(request)
///     }
/// }
/// ```
public protocol HTTPTransport: Sendable {
    /// Sends `request` once.
    ///
    /// - Throws: ``TransportError`` when no response was received, or `CancellationError`
    ///   when the calling task was cancelled.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse

    /// Whether ``send(_:)`` always ends within ``HTTPRequest/timeout`` (when it is set), answering
    /// cancellation as well. Default `false`.
    var honoursRequestTimeout: Bool { get }
}

extension HTTPTransport {
    /// `false`: the pipeline races the transport against the call's deadline.
    public var honoursRequestTimeout: Bool { false }
}
