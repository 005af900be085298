/// Why authentication could not proceed. Never contains a token.
public enum AuthenticationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Salesforce rejected the session again right after a refresh: the new token is not
    /// accepted either (wrong org, revoked app, missing permission).
    case sessionRejectedAfterRefresh(operation: String)
    /// Salesforce rejected a token that cannot be refreshed (``StaticTokenProvider``): a person
    /// must supply a new one.
    case tokenRejected(operation: String)
    /// Token after token was rejected before a single request succeeded with it: refreshing
    /// again would only loop. Every caller gets this error until the hold ends; then one
    /// refresh is tried again. (Sessions that merely expire often are not a loop: a token that
    /// served a request resets the count.)
    case refreshLoop(rejectedTokens: Int, hold: Duration)
    /// The token endpoint refused the request for good (`invalid_client`, `invalid_grant`,
    /// `inactive_user`…), whichever flow asked. The same error is returned without asking
    /// again until ``TokenRefreshOptions/refusalCooldown`` has passed.
    case refused(TokenRefusal)
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
        case .refreshLoop(let count, let hold):
            "\(count) new tokens in a row were rejected before any request succeeded with them; not refreshing again for \(hold)"
        case .refused(let refusal): refusal.description
        case .insecureInstanceURL(let url): "instance URL \(url) is not https (or allowed loopback http)"
        case .invalidTokenResponse(let detail): "invalid token response: \(Redaction.redact(detail))"
        case .signingFailed(let detail): "JWT signing failed: \(detail)"
        }
    }
}

/// A refusal from the OAuth token endpoint: its `error` code and what it said.
public struct TokenRefusal: Sendable, Hashable, CustomStringConvertible {
    /// The OAuth error code: `invalid_grant`, `invalid_client`, `invalid_client_id`,
    /// `inactive_user`, `unsupported_grant_type`…
    public var code: String
    /// The `error_description`, with anything that looks like a token redacted.
    public var detail: String
    /// The HTTP status (usually 400).
    public var status: Int
    /// The flow that asked: `refresh_token`, `client_credentials`, `jwt-bearer`, or a custom
    /// provider's name.
    public var grant: String

    /// Creates a refusal; `detail` is redacted.
    public init(code: String, detail: String, status: Int = 400, grant: String) {
        self.code = code
        self.detail = Redaction.redact(detail)
        self.status = status
        self.grant = grant
    }

    /// Whether the refusal may only mean that another process has just rotated the refresh
    /// token (`invalid_grant`): the shared credential is read again before it is believed.
    public var mayBeARace: Bool { code == "invalid_grant" }

    /// The next step for a person.
    public var advice: String {
        switch code {
        case "invalid_grant": "the refresh token or assertion is no longer valid: authorise the app again"
        case "invalid_client", "invalid_client_id": "check the connected app's consumer key and secret"
        case "inactive_user", "inactive_org": "the user or org is inactive: ask the Salesforce admin"
        default: "check the connected app's OAuth settings"
        }
    }

    /// A one-line explanation.
    public var description: String {
        "token endpoint refused the \(grant) request: \(code)\(detail.isEmpty ? "" : " (\(detail))"); \(advice)"
    }
}
