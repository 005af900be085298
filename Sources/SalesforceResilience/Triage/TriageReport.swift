/// What ``SalesforceClient/triage()`` found and what the runbook says to do about it.
public struct TriageReport: Sendable, Hashable, CustomStringConvertible {
    /// The runbook's recommended actions, most urgent first.
    public enum Action: String, Sendable, Hashable, Comparable, CaseIterable {
        /// Salesforce is down for us: switch to `fallback` mode (cached reads, queued writes).
        case enableFallbackMode
        /// The credentials are bad: re-authenticate (rotate the secret, re-authorise the app).
        case reauthenticate
        /// The API allowance is (nearly) exhausted: switch to `criticalOnly` mode.
        case switchToCriticalOnly
        /// Code or data bugs dominate (`MALFORMED_QUERY`, `INVALID_FIELD`): roll back the release.
        case rollBackCodeBug
        /// Throttling dominates: lower the request rate or concurrency.
        case slowDown
        /// Nothing wrong found.
        case none

        /// Most urgent first.
        public static func < (lhs: Action, rhs: Action) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// One check's result.
    public struct Finding: Sendable, Hashable {
        /// The check: `status`, `incidents`, `limits`, `auth`, `errors`.
        public var check: String
        /// What it saw.
        public var observation: String
        /// What to do about it.
        public var action: Action
    }

    /// Every check's result, in the order run.
    public var findings: [Finding]
    /// The instance's status from the status API, if checked.
    public var instanceStatus: String?
    /// Active incidents affecting the instance, if checked.
    public var activeIncidents: Int?
    /// The daily API allowance, if it could be read.
    public var dailyAPIRequests: OrgLimit?
    /// The client's metrics when triage ran.
    public var metrics: MetricsSnapshot

    /// The most urgent action among the findings.
    public var recommendation: Action { findings.map(\.action).min() ?? .none }

    /// The findings, one per line, and the recommendation.
    public var description: String {
        (findings.map { "[\($0.check)] \($0.observation) → \($0.action.rawValue)" } + ["recommendation: \(recommendation.rawValue)"])
            .joined(separator: "\n")
    }
}
