/// Obtains access tokens: a static token, or one of the OAuth flows in ``OAuthTokenProvider``.
///
/// A provider only fetches. Caching, sharing one refresh between concurrent callers, and the
/// refresh window live in ``TokenStore``, so a custom provider (a vault, a sidecar) is one method.
public protocol TokenProvider: Sendable {
    /// Fetches a fresh token. Called for the first request and after a 401 `INVALID_SESSION_ID`.
    func fetchToken() async throws -> AccessToken

    /// Fetches a fresh token presenting `refreshToken`, the newest refresh token the shared
    /// ``CredentialStore`` holds (`nil`: none stored yet), instead of the one the provider was
    /// created with. The returned token's ``AccessToken/refreshToken`` is the one to present
    /// next time. Default: ``fetchToken()``, for flows without refresh tokens.
    func fetchToken(refreshToken: String?) async throws -> AccessToken

    /// Names the credential this provider obtains (the grant, the app, the login host), so a
    /// shared ``CredentialStore`` holding another's credential is refused rather than used.
    /// Default: the provider's type name.
    var credentialOwner: String { get }

    /// Whether ``fetchToken()`` can return a token other than the one it gave before. `false`
    /// makes a 401 fail at once with ``AuthenticationError/tokenRejected(operation:)`` instead of
    /// a pointless refresh and replay. Default `true`.
    var canRefresh: Bool { get }
}

extension TokenProvider {
    /// Providers refresh unless they say otherwise.
    public var canRefresh: Bool { true }

    /// Flows without refresh tokens ignore `refreshToken`.
    public func fetchToken(refreshToken: String?) async throws -> AccessToken { try await fetchToken() }

    /// The provider's type name.
    public var credentialOwner: String { String(reflecting: Self.self) }
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
