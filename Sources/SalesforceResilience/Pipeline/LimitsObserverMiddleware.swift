/// Reads `Sforce-Limit-Info` from every response, failed ones included, into an
/// ``APIBudgetGuard``, and tells the guard about 403 `REQUEST_LIMIT_EXCEEDED`.
///
/// Place it innermost, next to the transport, so that it sees every attempt.
public struct LimitsObserverMiddleware: Middleware {
    /// Where usage is recorded.
    public let budget: APIBudgetGuard

    /// Creates the middleware.
    public init(budget: APIBudgetGuard) { self.budget = budget }

    /// Passes the request on and records the usage header of the answer.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        do {
            let response = try await next(request, context)
            observe(response.headers)
            return response
        } catch let error as SalesforceError {
            let usage = observe(error.headers)
            if error.category == .apiLimitExceeded { budget.recordLimitExceeded(usage) }
            throw error
        }
    }

    @discardableResult
    private func observe(_ headers: HTTPHeaders) -> APIUsage? {
        guard let value = headers["Sforce-Limit-Info"], let usage = APIUsage.parse(value) else { return nil }
        budget.record(usage)
        return usage
    }
}
