/// The rest of the chain as the standard chain passes it: a closure the middleware may not keep,
/// so that the compiler can inline it.
typealias ChainNext = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

/// A middleware of this library whose logic takes the rest of the chain as a closure it does not
/// keep. Its public ``Middleware/intercept(_:context:next:)`` calls ``handle(_:_:next:)``; the
/// standard chain calls `handle` on each layer by its type (`StandardChain`), and the compiler
/// fuses the layers into a few async frames instead of two per layer.
protocol FusedMiddleware: Middleware {
    /// Handles `request`, usually by calling `next`.
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse
}

/// A middleware that never waits, written as what it does before the rest of the chain and after
/// it; its ``FusedMiddleware/handle(_:_:next:)`` runs the stages around `next`.
protocol InlineMiddleware: FusedMiddleware {
    /// What `before` hands to the stages after the call (a start time, a probe flag).
    associatedtype Ticket

    /// Before the rest of the chain: may refuse by throwing. (A layer that changes the request
    /// or context is not an inline one.)
    func before(_ request: HTTPRequest, _ context: RequestContext) throws -> Ticket

    /// After the rest of the chain answered.
    func succeeded(_ response: HTTPResponse, _ ticket: Ticket, _ context: RequestContext)

    /// After the rest of the chain threw `error`; returns what to throw (usually `error`).
    func failed(_ error: any Error, _ ticket: Ticket, _ context: RequestContext) -> any Error
}

extension InlineMiddleware {
    /// The two stages around `next`.
    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        try await handle(request, context, ticket: try before(request, context), next: next)
    }

    /// The stage after `next`, for a caller that did what `before` does itself (the standard
    /// chain reads the clock once for the call's metrics and its deadline).
    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, ticket: Ticket, next: ChainNext) async throws -> HTTPResponse {
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
