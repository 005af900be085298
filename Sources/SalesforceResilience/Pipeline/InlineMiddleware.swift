/// The rest of the chain as the standard chain's links pass it: a closure the middleware may not
/// keep, so that the compiler can inline it.
typealias ChainNext = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

/// A middleware of this library whose logic takes the rest of the chain as a closure it does not
/// keep. Its public ``Middleware/intercept(_:context:next:)`` calls ``handle(_:_:next:)``; the
/// standard chain calls `handle` through links of known types, and the compiler fuses the layers
/// into a few async frames instead of two per layer.
protocol FusedMiddleware: Middleware {
    /// Handles `request`, usually by calling `next`.
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse
}

/// A middleware that never waits, written as what it does before the rest of the chain and after
/// it; its ``FusedMiddleware/handle(_:_:next:)`` runs the stages around `next`.
protocol InlineMiddleware: FusedMiddleware {
    /// What `before` hands to the stages after the call (a start time, a probe flag).
    associatedtype Ticket

    /// Before the rest of the chain: may change the request or context, or refuse by throwing.
    func before(_ request: inout HTTPRequest, _ context: inout RequestContext) throws -> Ticket

    /// After the rest of the chain answered.
    func succeeded(_ response: HTTPResponse, _ ticket: Ticket, _ context: RequestContext)

    /// After the rest of the chain threw `error`; returns what to throw (usually `error`).
    func failed(_ error: any Error, _ ticket: Ticket, _ context: RequestContext) -> any Error
}

extension InlineMiddleware {
    /// The two stages around `next`.
    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        var (request, context) = (request, context)
        let ticket = try before(&request, &context)
        let response: HTTPResponse
        do {
            response = try await next(request, context)
        } catch {
            throw failed(error, ticket, context)
        }
        succeeded(response, ticket, context)
        return response
    }
}
