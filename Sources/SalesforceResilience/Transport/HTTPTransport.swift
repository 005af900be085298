/// Sends one HTTP request and returns the response: the only way the library reaches the network.
///
/// A transport performs exactly one attempt. It returns every response the server produced,
/// whatever the status (a 503 is a response, not an error), and throws a ``TransportError``
/// when no response arrived. Retries, refreshes and breakers live in ``Middleware``.
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
}
