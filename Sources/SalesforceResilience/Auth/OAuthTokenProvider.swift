import Foundation

/// Fetches tokens from Salesforce's OAuth 2.0 token endpoint (`/services/oauth2/token`).
///
/// Transient failures (503, connection refused) are retried with backoff; OAuth errors
/// (`invalid_grant`, `invalid_client`) are not: they surface at once as a ``SalesforceError``
/// with category ``FailureCategory/authenticationFailed``.
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
        loginURL: URL, grant: Grant, transport: any HTTPTransport = URLSessionTransport(),
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

    /// Requests a token.
    public func fetchToken() async throws -> AccessToken {
        try InstanceURLPolicy.validate(loginURL, allowHTTPLoopback: allowHTTPLoopback)
        let request = HTTPRequest(
            method: .post,
            url: loginURL.appendingPathComponent("services/oauth2/token"),
            headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
            body: FormEncoding.body(try parameters()))
        // Asking for a token twice is harmless: each answer is a valid token.
        let context = RequestContext(operation: "oauth token", isIdempotent: true, priority: .critical)
        let response = try await pipeline.send(request, context: context)
        let token = try OAuthTokenResponse.parse(response.body)
        if let instanceURL = token.instanceURL {
            try InstanceURLPolicy.validate(instanceURL, allowHTTPLoopback: allowHTTPLoopback)
            if let problem = InstanceURLPolicy.shapeProblem(of: instanceURL) {
                throw AuthenticationError.invalidTokenResponse("instance_url \(problem)")
            }
        }
        return token
    }

    private func parameters() throws -> [(String, String)] {
        switch grant {
        case .refreshToken(let refreshToken, let clientID, let clientSecret):
            var pairs = [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientID)]
            if let clientSecret { pairs.append(("client_secret", clientSecret)) }
            return pairs
        case .clientCredentials(let clientID, let clientSecret):
            return [("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret)]
        case .jwtBearer(let assertion):
            return [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", try assertion.make(now: clock.wallClockNow))]
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
        return AccessToken(value: value, instanceURL: instanceURL, issuedAt: issuedAt, scope: body.scope, identityURL: body.id)
    }
}
