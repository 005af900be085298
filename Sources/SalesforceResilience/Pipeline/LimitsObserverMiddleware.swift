/// Reads `Sforce-Limit-Info` from every response, failed ones included, into an ``APIUsageTracker``.
///
/// Place it innermost, next to the transport, so that it sees every attempt.
public struct LimitsObserverMiddleware: Middleware {
    /// Where usage is recorded.
    public let tracker: APIUsageTracker

    /// Creates the middleware.
    public init(tracker: APIUsageTracker) { self.tracker = tracker }

    /// Passes the request on and records the usage header of the answer.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        do {
            let response = try await next(request, context)
            observe(response.headers)
            return response
        } catch let error as SalesforceError {
            observe(error.headers)
            throw error
        }
    }

    private func observe(_ headers: HTTPHeaders) {
        if let value = headers["Sforce-Limit-Info"], let usage = APIUsage.parse(value) {
            tracker.record(usage)
        }
    }
}
