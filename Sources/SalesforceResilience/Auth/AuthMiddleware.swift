/// Adds the bearer token and, on 401 `INVALID_SESSION_ID`, refreshes once and replays once.
///
/// The refresh is shared through ``TokenStore``. A second 401 after the refresh is
/// ``AuthenticationError/sessionRejectedAfterRefresh(operation:)``, never another refresh. A
/// provider that cannot refresh (a fixed token) fails at once with
/// ``AuthenticationError/tokenRejected(operation:)``.
public struct AuthMiddleware: Middleware {
    /// The token store.
    public let tokens: TokenStore

    /// Creates the middleware.
    public init(tokens: TokenStore) { self.tokens = tokens }

    /// Authorises, sends, and handles an expired session.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        let token = try await tokens.token()
        do {
            let response = try await next(authorised(request, token), context)
            tokens.confirm(token)
            return response
        } catch let error as SalesforceError where error.category == .sessionExpired {
            guard tokens.provider.canRefresh else { throw AuthenticationError.tokenRejected(operation: context.operation) }
            let fresh = try await tokens.refresh(replacing: token)
            do {
                let response = try await next(authorised(request, fresh), context)
                tokens.confirm(fresh)
                return response
            } catch let again as SalesforceError where again.category == .sessionExpired {
                throw AuthenticationError.sessionRejectedAfterRefresh(operation: context.operation)
            }
        }
    }

    private func authorised(_ request: HTTPRequest, _ token: AccessToken) -> HTTPRequest {
        var request = request
        request.headers["Authorization"] = "Bearer \(token.value)"
        return request
    }
}
