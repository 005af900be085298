import Foundation

/// An OAuth access token and what the token endpoint said with it.
///
/// Its `description`, `debugDescription` and reflection never show the token.
public struct AccessToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The bearer token sent in `Authorization`.
    public var value: String
    /// The org's instance URL from the token response, if there was one.
    public var instanceURL: URL?
    /// When the token was issued, if known.
    public var issuedAt: Date?
    /// The granted scopes, space-separated, if known.
    public var scope: String?
    /// The identity URL (`id`), if known.
    public var identityURL: String?

    /// Creates a token.
    public init(value: String, instanceURL: URL? = nil, issuedAt: Date? = nil, scope: String? = nil, identityURL: String? = nil) {
        self.value = value
        self.instanceURL = instanceURL
        self.issuedAt = issuedAt
        self.scope = scope
        self.identityURL = identityURL
    }

    /// The token with its value redacted.
    public var description: String {
        "AccessToken(\(Redaction.placeholder), instance: \(instanceURL?.absoluteString ?? "none"))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// Reflection without the value, so `dump(token)` cannot leak it.
    public var customMirror: Mirror {
        Mirror(self, children: ["value": Redaction.placeholder, "instanceURL": instanceURL as Any, "issuedAt": issuedAt as Any])
    }
}

/// Why authentication could not proceed. Never contains a token.
public enum AuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Salesforce rejected the session again right after a refresh: the new token is not
    /// accepted either (wrong org, revoked app, missing permission).
    case sessionRejectedAfterRefresh(operation: String)
    /// Salesforce rejected a token that cannot be refreshed (``StaticTokenProvider``): a person
    /// must supply a new one.
    case tokenRejected(operation: String)
    /// More refreshes than allowed happened within the refresh window: something keeps
    /// invalidating sessions, and refreshing again would only loop.
    case refreshLimitReached(count: Int, window: Duration)
    /// The token response's `instance_url` is not https (or http on loopback where allowed).
    case insecureInstanceURL(String)
    /// The token endpoint answered 2xx with a body that is not a token response.
    case invalidTokenResponse(String)
    /// A JWT could not be built or signed.
    case signingFailed(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .sessionRejectedAfterRefresh(let operation): "\(operation): session rejected again after a token refresh"
        case .tokenRejected(let operation):
            "\(operation): Salesforce rejected the access token (INVALID_SESSION_ID); a fixed token cannot be refreshed: supply a new one"
        case .refreshLimitReached(let count, let window): "token refreshed \(count) times within \(window); not refreshing again"
        case .insecureInstanceURL(let url): "instance URL \(url) is not https (or allowed loopback http)"
        case .invalidTokenResponse(let detail): "invalid token response: \(Redaction.redact(detail))"
        case .signingFailed(let detail): "JWT signing failed: \(detail)"
        }
    }
}
