/// The rest of the chain after a middleware: call it to pass the request on.
public typealias MiddlewareNext = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

/// One resilience concern between an operation and the transport.
///
/// A middleware may change the request or context, call `next` zero or more times, and
/// transform the result. Inside the chain a non-2xx response arrives as a thrown
/// ``SalesforceError`` (the ``Pipeline`` converts it through ``OutcomeClassifier``), so a
/// middleware handles failures in one place: its `catch`.
///
/// ```swift
/// struct Tagging: Middleware {
///     func intercept(_ request: HTTPRequest, context: RequestContext,
///                    next: MiddlewareNext) async throws -> HTTPResponse {
///         var request = request
///         request.headers["Sforce-Call-Options"] = "client=payments"
///         return try await next(request, context)
///     }
/// }
/// ```
public protocol Middleware: Sendable {
    /// Handles `request`, usually by calling `next`.
    func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse
}
