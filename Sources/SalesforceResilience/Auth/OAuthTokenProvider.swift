import Foundation

/// Fetches tokens from Salesforce's OAuth 2.0 token endpoint (`/services/oauth2/token`).
///
/// Transient failures (503, connection refused) are retried with backoff; OAuth errors
/// (`invalid_grant`, `invalid_client`) are not: they surface at once as
/// ``AuthenticationError/refused(_:)``, the same error whichever flow asked.
///
/// Under Refresh Token Rotation each refresh returns a new refresh token; the returned
/// ``AccessToken/refreshToken`` is the one to present next, and ``TokenStore`` keeps it (in a
/// shared ``CredentialStore`` when several processes use the same app).
public struct OAuthTokenProvider: TokenProvider {
    /// How the app proves who it is.
    public enum Grant: Sendable {
        /// `grant_type=refresh_token`: a refresh token from an earlier authorisation.
        case refreshToken(refreshToken: String, clientID: String, clientSecret: String?)
        /// `grant_type=client_credentials`: the connected app's run-as user (needs My Domain).
        case clientCredentials(clientID: String, clientSecret: String)
        /// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`: a signed assertion.
        case jwtBearer(JWTBearerAssertion)
    }

    /// The login host or My Domain URL, such as `https://login.salesforce.com`.
    public let loginURL: URL
    /// The grant.
    public let grant: Grant
    /// Whether an `http` loopback `instance_url` is accepted (local testing only).
    public let allowHTTPLoopback: Bool
    private let pipeline: Pipeline
    private let clock: any ResilienceClock

    /// Creates a provider.
    ///
    /// - Parameters:
    ///   - loginURL: the host the token request goes to.
    ///   - retryPolicy: retries for transient failures of the token endpoint. Default 3 attempts.
    public init(
        loginURL: URL, grant: Grant, transport: any HTTPTransport = StandardTransport.make(),
        clock: any ResilienceClock = SystemClock(), retryPolicy: RetryPolicy = RetryPolicy(maxAttempts: 3),
        allowHTTPLoopback: Bool = false, events: ResilienceEventSink = .none
    ) {
        self.loginURL = loginURL
        self.grant = grant
        self.allowHTTPLoopback = allowHTTPLoopback
        self.clock = clock
        self.pipeline = Pipeline(
            middleware: [RetryMiddleware(policy: retryPolicy, budget: RetryBudget(), clock: clock, events: events)],
            transport: transport)
    }

    /// Requests a token, presenting the refresh token the provider was created with.
    public func fetchToken() async throws -> AccessToken {
        try await fetchToken(refreshToken: nil)
    }

    /// Requests a token, presenting `refreshToken` (if given) instead of the one the provider
    /// was created with.
    public func fetchToken(refreshToken: String?) async throws -> AccessToken {
        try InstanceURLPolicy.validate(loginURL, allowHTTPLoopback: allowHTTPLoopback)
        let request = HTTPRequest(
            method: .post,
            url: loginURL.appendingPathComponent("services/oauth2/token"),
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: FormEncoding.body(try parameters(refreshToken: refreshToken)))
        // Asking twice is harmless for most flows: each answer is a valid token. Under rotation a
        // refresh whose answer was lost may have rotated the token, and presenting it again then
        // revokes its family; but the next refresh would present the same one, so retrying now
        // loses nothing and recovers every time the request had not been processed.
        let context = RequestContext(operation: "oauth token", isIdempotent: true, priority: .critical)
        let response: HTTPResponse
        do {
            response = try await pipeline.send(request, context: context)
        } catch let error as SalesforceError where error.category == .authenticationFailed {
            throw AuthenticationError.refused(
                TokenRefusal(code: error.errorCode ?? "status \(error.status)", detail: error.message, status: error.status, grant: grant.name))
        }
        var token = try OAuthTokenResponse.parse(response.body)
        if case .refreshToken(let configured, _, _) = grant, token.refreshToken == nil {
            token.refreshToken = refreshToken ?? configured  // no rotation: the same one stays valid
        }
        if let instanceURL = token.instanceURL {
            try InstanceURLPolicy.validate(instanceURL, allowHTTPLoopback: allowHTTPLoopback)
            if let problem = InstanceURLPolicy.shapeProblem(of: instanceURL) {
                throw AuthenticationError.invalidTokenResponse("instance_url \(problem)")
            }
        }
        return token
    }

    /// The grant, the app and the login host: what a shared credential belongs to.
    public var credentialOwner: String {
        let host = loginURL.host ?? loginURL.absoluteString
        return switch grant {
        case .refreshToken(_, let clientID, _): "refresh_token \(clientID)@\(host)"
        case .clientCredentials(let clientID, _): "client_credentials \(clientID)@\(host)"
        case .jwtBearer(let assertion): "jwt-bearer \(assertion.consumerKey) as \(assertion.username)@\(host)"
        }
    }

    private func parameters(refreshToken current: String?) throws -> [(String, String)] {
        switch grant {
        case .refreshToken(let configured, let clientID, let clientSecret):
            var pairs = [("grant_type", "refresh_token"), ("refresh_token", current ?? configured), ("client_id", clientID)]
            if let clientSecret { pairs.append(("client_secret", clientSecret)) }
            return pairs
        case .clientCredentials(let clientID, let clientSecret):
            return [("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret)]
        case .jwtBearer(let assertion):
            return [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try assertion.make(now: clock.wallClockNow))]
        }
    }
}

extension OAuthTokenProvider.Grant {
    /// The `grant_type`'s short name, for errors.
    var name: String {
        switch self {
        case .refreshToken: "refresh_token"
        case .clientCredentials: "client_credentials"
        case .jwtBearer: "jwt-bearer"
        }
    }
}

/// The token endpoint's success body.
enum OAuthTokenResponse {
    private struct Body: Decodable {
        let access_token: String?
        let instance_url: String?
        let id: String?
        let issued_at: String?
        let scope: String?
        let refresh_token: String?
    }

    static func parse(_ data: Data) throws -> AccessToken {
        guard let body = try? JSONDecoder().decode(Body.self, from: data) else {
            throw AuthenticationError.invalidTokenResponse("body is not a JSON token response (\(data.count) bytes)")
        }
        guard let value = body.access_token, !value.isEmpty else {
            throw AuthenticationError.invalidTokenResponse("no access_token")
        }
        var instanceURL: URL?
        if let text = body.instance_url {
            guard let url = URL(string: text) else { throw AuthenticationError.invalidTokenResponse("instance_url is not a URL") }
            instanceURL = url
        }
        let issuedAt = body.issued_at.flatMap(Double.init).map { Date(timeIntervalSince1970: $0 / 1000) }
        return AccessToken(
            value: value, instanceURL: instanceURL, issuedAt: issuedAt, scope: body.scope, identityURL: body.id,
            refreshToken: body.refresh_token.flatMap { $0.isEmpty ? nil : $0 })
    }
}
