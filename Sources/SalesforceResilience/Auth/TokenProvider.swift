/// Obtains access tokens: a static token, or one of the OAuth flows in ``OAuthTokenProvider``.
///
/// A provider only fetches. Caching, sharing one refresh between concurrent callers, and the
/// refresh window live in ``TokenStore``, so a custom provider (a vault, a sidecar) is one method.
public protocol TokenProvider: Sendable {
    /// Fetches a fresh token. Called for the first request and after a 401 `INVALID_SESSION_ID`.
    func fetchToken() async throws -> AccessToken
}

/// A fixed token, for scripts and tests. After a 401 the same token is offered again, so the
/// replay fails with ``AuthenticationError/sessionRejectedAfterRefresh(operation:)``.
public struct StaticTokenProvider: TokenProvider {
    private let token: AccessToken

    /// Creates a provider for `token`.
    public init(_ token: AccessToken) { self.token = token }

    /// Creates a provider for a bearer token string.
    public init(accessToken: String) { self.token = AccessToken(value: accessToken) }

    /// Returns the token.
    public func fetchToken() async throws -> AccessToken { token }
}
