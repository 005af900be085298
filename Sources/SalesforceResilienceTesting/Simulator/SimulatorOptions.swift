import Foundation
import SalesforceResilience

/// How a ``SalesforceSimulator`` behaves.
public struct SimulatorOptions: Sendable {
    /// The URL the simulator claims to be (`instance_url` in token responses). Any host may be
    /// used in requests; this one is only reported. Default `https://sim.my.salesforce.com`.
    public var instanceURL: URL
    /// The org id reported in token responses' identity URL (`…/id/{orgID}/{userID}`).
    /// Default `00DSIM000000001`.
    public var organizationID: String
    /// The org's daily API allowance; calls past it get 403 `REQUEST_LIMIT_EXCEEDED`. Default 100,000.
    public var dailyAPILimit: Int
    /// How long an access token lives; `nil` for until ``SalesforceSimulator/expireSessions()``. Default `nil`.
    public var sessionLifetime: Duration?
    /// Records per query page. Default 2,000, as Salesforce.
    public var queryPageSize: Int
    /// If set, the token endpoint accepts only this client id. Default `nil` (any).
    public var clientID: String?
    /// If set, the token endpoint accepts only this client secret. Default `nil` (any).
    public var clientSecret: String?
    /// How long a Bulk API job takes from `UploadComplete` to `JobComplete`. Default 30 s.
    public var bulkProcessingTime: Duration
    /// Refresh Token Rotation: each refresh answers with a new refresh token and retires the one
    /// presented; presenting a retired one again revokes every token of the family. Only
    /// refresh tokens from ``SalesforceSimulator/issueRefreshToken()`` (or a refresh) are
    /// accepted. Default `false`: any refresh token is accepted and stays valid.
    public var refreshTokenRotation: Bool
    /// Decides per Bulk ingest row whether it fails: return `"CODE:message"` to reject the row.
    /// Default `nil`: rows fail only for missing ids.
    public var bulkRowValidator: (@Sendable ([String: String]) -> String?)?

    /// Creates options.
    public init(
        instanceURL: URL = URL(string: "https://sim.my.salesforce.com")!, dailyAPILimit: Int = 100_000,
        sessionLifetime: Duration? = nil, queryPageSize: Int = 2_000, clientID: String? = nil, clientSecret: String? = nil,
        bulkProcessingTime: Duration = .seconds(30), bulkRowValidator: (@Sendable ([String: String]) -> String?)? = nil,
        organizationID: String = "00DSIM000000001", refreshTokenRotation: Bool = false
    ) {
        self.refreshTokenRotation = refreshTokenRotation
        self.organizationID = organizationID
        self.bulkProcessingTime = bulkProcessingTime
        self.bulkRowValidator = bulkRowValidator
        self.instanceURL = instanceURL
        self.dailyAPILimit = dailyAPILimit
        self.sessionLifetime = sessionLifetime
        self.queryPageSize = max(1, queryPageSize)
        self.clientID = clientID
        self.clientSecret = clientSecret
    }
}
