/// Obtains access tokens: a static token, or one of the OAuth flows in ``OAuthTokenProvider``.
///
/// A provider only fetches. Caching, sharing one refresh between concurrent callers, and the
/// refresh window live in ``TokenStore``, so a custom provider (a vault, a sidecar) is one method.
public protocol TokenProvider: Sendable {
    /// Fetches a fresh token. Called for the first request and after a 401 `INVALID_SESSION_ID`.
    func fetchToken() async throws -> AccessToken

    /// Whether ``fetchToken()`` can return a token other than the one it gave before. `false`
    /// makes a 401 fail at once with ``AuthenticationError/tokenRejected(operation:)`` instead of
    /// a pointless refresh and replay. Default `true`.
    var canRefresh: Bool { get }
}

extension TokenProvider {
    /// Providers refresh unless they say otherwise.
    public var canRefresh: Bool { true }
}

/// A fixed token, for scripts and tests. It cannot be refreshed: after a 401 the call fails with
/// ``AuthenticationError/tokenRejected(operation:)``.
public struct StaticTokenProvider: TokenProvider {
    private let token: AccessToken

    /// Creates a provider for `token`.
    public init(_ token: AccessToken) { self.token = token }

    /// Creates a provider for a bearer token string.
    public init(accessToken: String) { self.token = AccessToken(value: accessToken) }

    /// Returns the token.
    public func fetchToken() async throws -> AccessToken { token }

    /// `false`: the same token would come back.
    public var canRefresh: Bool { false }
}
