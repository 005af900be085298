/// Reads `Sforce-Limit-Info` from every response, failed ones included, into an
/// ``APIBudgetGuard``, and tells the guard about 403 `REQUEST_LIMIT_EXCEEDED`.
///
/// Place it innermost, next to the transport, so that it sees every attempt.
public struct LimitsObserverMiddleware: Middleware, InlineMiddleware {
    /// Where usage is recorded.
    public let budget: APIBudgetGuard

    /// Creates the middleware.
    public init(budget: APIBudgetGuard) { self.budget = budget }

    /// Passes the request on and records the usage header of the answer.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    func before(_ request: HTTPRequest, _ context: RequestContext) {}

    func succeeded(_ response: HTTPResponse, _ ticket: Void, _ context: RequestContext) {
        observe(response.headers)
    }

    func failed(_ error: any Error, _ ticket: Void, _ context: RequestContext) -> any Error {
        if let error = error as? SalesforceError {
            let usage = observe(error.headers)
            if error.category == .apiLimitExceeded { budget.recordLimitExceeded(usage) }
        }
        return error
    }

    @discardableResult
    private func observe(_ headers: HTTPHeaders) -> APIUsage? {
        guard let value = headers["Sforce-Limit-Info"], let usage = APIUsage.parse(value) else { return nil }
        budget.record(usage)
        return usage
    }
}
