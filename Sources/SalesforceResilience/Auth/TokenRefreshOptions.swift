/// How ``TokenStore`` guards the token endpoint.
public struct TokenRefreshOptions: Sendable, Hashable {
    /// New tokens rejected in a row, before any request succeeded with them, that count as a
    /// refresh loop. Default 3. Raised to 1 where used.
    public var loopThreshold: Int
    /// How long every caller is refused after a loop is detected, before one refresh is tried
    /// again. Default 60 s.
    public var loopHold: Duration
    /// How long a definite refusal from the token endpoint (`invalid_client`, `invalid_grant`…)
    /// is returned to every caller without asking the endpoint again. Default 60 s: Salesforce
    /// rate-limits token requests and can lock a user out after repeated failures.
    public var refusalCooldown: Duration
    /// The longest a process waits for another process's refresh to finish (the shared
    /// credential store's refresh lock). Default 60 s.
    public var lockTimeout: Duration

    /// The defaults.
    public static let `default` = TokenRefreshOptions()

    /// Creates options. Durations below 1 ms are raised to 1 ms where used.
    public init(loopThreshold: Int = 3, loopHold: Duration = .seconds(60), refusalCooldown: Duration = .seconds(60),
                lockTimeout: Duration = .seconds(60)) {
        self.loopThreshold = loopThreshold
        self.loopHold = loopHold
        self.refusalCooldown = refusalCooldown
        self.lockTimeout = lockTimeout
    }
}
