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
    /// The refresh token to present next time, if the flow has one: the one the token endpoint
    /// returned with this token (under Refresh Token Rotation, a new one each time), else the one
    /// that was presented. Never shown by `description` or reflection.
    public var refreshToken: String?

    /// Creates a token.
    public init(
        value: String, instanceURL: URL? = nil, issuedAt: Date? = nil, scope: String? = nil, identityURL: String? = nil,
        refreshToken: String? = nil
    ) {
        self.value = value
        self.instanceURL = instanceURL
        self.issuedAt = issuedAt
        self.scope = scope
        self.identityURL = identityURL
        self.refreshToken = refreshToken
    }

    /// `Authorization`'s value for a token: `Bearer <value>`.
    static func authorization(for value: String) -> String { "Bearer " + value }

    /// The token with its value redacted.
    public var description: String {
        "AccessToken(\(Redaction.placeholder), instance: \(instanceURL.map(Redaction.redactURL) ?? "none"))"
    }

    /// Same as ``description``.
    public var debugDescription: String { description }

    /// Reflection without the value, so `dump(token)` cannot leak it.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "value": Redaction.placeholder, "instanceURL": instanceURL as Any, "issuedAt": issuedAt as Any,
            "refreshToken": refreshToken.map { _ in Redaction.placeholder } as Any,
        ])
    }
}
