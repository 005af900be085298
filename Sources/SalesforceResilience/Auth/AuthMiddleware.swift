import Foundation

/// Resolves the token and the org's instance inside the chain, adds the bearer token, and on
/// 401 `INVALID_SESSION_ID` refreshes once and replays once.
///
/// Because the token is resolved here, a token fetch is part of the call: admitted, counted by
/// the breaker's host, retried by the retry policy, and bounded by ``RequestContext/deadline``
/// (a token endpoint that stalls fails the call with ``DeadlineExceededError`` at its deadline).
/// A token in hand costs a lock, not an actor hop.
///
/// Requests are addressed to the configured instance. When the token's `instance_url` names
/// another host, a request to the configured one is sent there instead.
///
/// The refresh is shared through ``TokenStore``. A second 401 after the refresh is
/// ``AuthenticationError/sessionRejectedAfterRefresh(operation:)``, never another refresh. A
/// provider that cannot refresh (a fixed token) fails at once with
/// ``AuthenticationError/tokenRejected(operation:)``.
public struct AuthMiddleware: Middleware, FusedMiddleware {
    /// The token store.
    public let tokens: TokenStore
    /// The instance requests are addressed to, or `nil` to send them as they are.
    public let instanceURL: URL?
    /// `instanceURL` as text, without a trailing slash.
    private let instancePrefix: String?

    /// Creates the middleware.
    ///
    /// - Parameter instanceURL: the configured org URL; requests under it are re-addressed to the
    ///   token's `instance_url` when that differs.
    public init(tokens: TokenStore, instanceURL: URL? = nil) {
        self.tokens = tokens
        self.instanceURL = instanceURL
        self.instancePrefix = instanceURL?.baseText
    }

    /// Authorises, sends, and handles an expired session.
    public func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
        try await handle(request, context, next: next)
    }

    @inline(__always)
    func handle(_ request: HTTPRequest, _ context: RequestContext, next: ChainNext) async throws -> HTTPResponse {
        let inHand: TokenInHand
        var confirmed = false
        if let (held, proven) = try tokens.usableAuthorization() {
            (inHand, confirmed) = (held, proven)
        } else {
            inHand = TokenInHand(try await bounded(context) { tokens in try await tokens.token() })
        }
        do {
            let response = try await next(authorised(request, inHand), context)
            if !confirmed { tokens.confirm(inHand.token) }
            return response
        } catch let error as SalesforceError where error.category == .sessionExpired {
            return try await replay(request, context, refreshing: inHand.token, next: next)
        }
    }

    /// After a 401: one refresh, shared with every caller that saw it, and one replay.
    private func replay(_ request: HTTPRequest, _ context: RequestContext, refreshing token: AccessToken, next: ChainNext) async throws -> HTTPResponse {
        guard tokens.provider.canRefresh else { throw AuthenticationError.tokenRejected(operation: context.operation) }
        let fresh = try await bounded(context) { tokens in try await tokens.refresh(replacing: token) }
        do {
            let response = try await next(authorised(request, TokenInHand(fresh)), context)
            tokens.confirm(fresh)
            return response
        } catch let again as SalesforceError where again.category == .sessionExpired {
            throw AuthenticationError.sessionRejectedAfterRefresh(operation: context.operation)
        }
    }

    /// Waits for the token store, no later than the call's deadline.
    private func bounded(_ context: RequestContext, _ body: @escaping @Sendable (TokenStore) async throws -> AccessToken) async throws -> AccessToken {
        let tokens = self.tokens
        guard let deadline = context.deadline else { return try await body(tokens) }
        let operation = context.operation
        return try await withTimeLimit(at: deadline, clock: tokens.clock, expired: {
            DeadlineExceededError(operation: operation, deadline: deadline)
        }) {
            try await body(tokens)
        }
    }

    private func authorised(_ request: HTTPRequest, _ inHand: TokenInHand) -> HTTPRequest {
        var request = request
        request.headers["Authorization"] = inHand.authorization
        if let instancePrefix, let instance = inHand.token.instanceURL, instance != instanceURL {
            let target = instance.baseText
            if target != instancePrefix, let moved = Self.readdress(request.url, from: instancePrefix, to: target) {
                request.url = moved
            }
        }
        return request
    }

    /// `url` with its `from` prefix replaced by `to`; `nil` when it is not under `from`.
    private static func readdress(_ url: URL, from: String, to: String) -> URL? {
        let text = url.absoluteString
        guard text.hasPrefix(from) else { return nil }
        let rest = text.dropFirst(from.count)
        guard rest.isEmpty || rest.hasPrefix("/") || rest.hasPrefix("?") else { return nil }
        return URL(string: to + rest)
    }
}
