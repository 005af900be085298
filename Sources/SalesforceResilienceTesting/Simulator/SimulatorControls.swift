import Foundation
import SalesforceResilience

extension SalesforceSimulator {
    // MARK: Controls

    /// Invalidates every access token: the next data call gets 401 `INVALID_SESSION_ID`.
    public func expireSessions() {
        state.withLock { $0.sessions.removeAll() }
    }

    /// Invalidates every access token at `instant`: the first request at or after it finds every
    /// session expired. Use it to expire sessions in the middle of a run on a virtual clock.
    public func expireSessions(at instant: ResilienceInstant) {
        state.withLock { state in
            state.scheduledExpiries.append(instant)
            state.scheduledExpiries.sort()
        }
    }

    /// Makes the token endpoint answer `invalid_grant` to refresh-token requests from now on.
    public func revokeRefreshTokens() {
        state.withLock { $0.refreshTokensRevoked = true }
    }

    /// A refresh token, as if a person had just authorised the app: with
    /// ``SimulatorOptions/refreshTokenRotation`` the only kind the token endpoint accepts.
    public func issueRefreshToken() -> String {
        state.withLock { $0.issueRefreshToken(organizationID: options.organizationID) }
    }

    /// Times the refresh-token family was revoked because a retired refresh token was presented
    /// again (Refresh Token Rotation). Once revoked, every refresh is `invalid_grant`.
    public var refreshTokenRevocations: Int { state.withLock { $0.familyRevocations } }

    /// Requests received by the token endpoint, successful or not.
    public var tokenRequests: Int { calls["POST token"] ?? 0 }

    /// The next `count` record writes fail with `UNABLE_TO_LOCK_ROW` (per record in collections).
    public func injectRowLockContention(count: Int) {
        state.withLock { $0.rowLocksToInject += max(0, count) }
    }

    /// The next `times` writes of the record whose external id is `externalId` fail in a
    /// collections answer with `code` and `message`, as Salesforce reports a record it could not
    /// save: `UNKNOWN_EXCEPTION`, a trigger's `CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY` whose message
    /// names `UNABLE_TO_LOCK_ROW`, a racing `DUPLICATE_VALUE`, or a validation error.
    public func failRecord(_ externalId: String, code: String, message: String, times: Int = 1) {
        state.withLock { $0.recordFailures[externalId] = SimulatorState.RecordFailure(code: code, message: message, remaining: max(0, times)) }
    }

    /// Sets what the status API reports for instance `key` (`OK`, `MAJOR_INCIDENT_CORE`,
    /// `MINOR_INCIDENT_CORE`, `MAINTENANCE_CORE`…).
    public func setInstanceStatus(_ status: String, for key: String) {
        state.withLock { $0.instanceStatus[key.uppercased()] = status }
    }

    /// Adds an active incident affecting `instanceKeys` to the status API.
    public func addIncident(id: String, instanceKeys: [String], message: String) {
        state.withLock { state in
            state.incidents.append(.object([
                "id": .string(id), "instanceKeys": .array(instanceKeys.map(JSONValue.string)), "isCore": true,
                "IncidentEvents": .array([.object(["message": .string(message)])]),
            ]))
        }
    }

    /// Makes the next Bulk API job created fail with `errorMessage`, after saving its first
    /// `afterProcessing` rows (Salesforce does not roll them back); the rest are reported in
    /// `unprocessedrecords`.
    public func failNextBulkJob(errorMessage: String, afterProcessing rows: Int = 0) {
        state.withLock { $0.failNextBulkJob = (errorMessage, max(0, rows)) }
    }

    /// Makes every Bulk API ingest result file list its rows in an order shuffled by `seed`
    /// (Salesforce does not promise input order), or in input order again with `nil`.
    public func shuffleBulkResults(seed: UInt64?) {
        state.withLock { $0.bulkResultShuffleSeed = seed }
    }

    /// How many times each external id value of `type` was saved by an upsert on `field`
    /// (created or updated), by any endpoint: single record, collections or Bulk API. A record
    /// delivered exactly once per version it had shows its number of versions.
    public func upsertSaves(of type: String, field: String) -> [String: Int] {
        state.withLock { $0.upsertSaves[type + "." + field] ?? [:] }
    }

    /// The state of every Bulk API job, by id.
    public var bulkJobStates: [String: BulkJobState] {
        state.withLock { $0.bulkJobs.mapValues(\.state) }
    }

    /// Sets the API calls already used today (to start a test near the daily limit).
    public func setAPIUsage(_ used: Int) {
        state.withLock { $0.apiUsed = max(0, used) }
    }

    /// Stores records directly, as if they already existed; returns their ids.
    @discardableResult
    public func seed(_ type: String, records: [[String: JSONValue]]) -> [String] {
        state.withLock { state in records.map { state.insert(type: type, fields: $0) } }
    }

    /// A token provider for this org using the client-credentials flow.
    public func clientCredentialsProvider(clientID: String = "sim-client", clientSecret: String = "sim-secret") -> OAuthTokenProvider {
        OAuthTokenProvider(
            loginURL: options.instanceURL, grant: .clientCredentials(clientID: options.clientID ?? clientID, clientSecret: options.clientSecret ?? clientSecret),
            transport: self, clock: clock, allowHTTPLoopback: true)
    }

    // MARK: Invariants

    /// The live (not deleted) records of `type`, in creation order, with `Id` added.
    public func records(of type: String) -> [[String: JSONValue]] {
        state.withLock { state in
            state.live(type).map { record in record.fields.merging(["Id": .string(record.id)]) { $1 } }
        }
    }

    /// How many live records of `type` have each value of `field`.
    public func countsByValue(of type: String, field: String) -> [String: Int] {
        state.withLock { state in
            state.live(type).reduce(into: [:]) { counts, record in
                if let value = record.fields[field]?.stringValue { counts[value, default: 0] += 1 }
            }
        }
    }

    /// The values of `field` held by more than one live record of `type`, with their counts.
    public func duplicates(of type: String, field: String) -> [String: Int] {
        countsByValue(of: type, field: field).filter { $0.value > 1 }
    }

    /// Calls received, by endpoint (`"PATCH upsert"`, `"PATCH collections"`, `"POST token"`, `"GET query"`…).
    public var calls: [String: Int] { state.withLock { $0.calls } }

    /// Responses sent, by status.
    public var statuses: [Int: Int] { state.withLock { $0.statuses } }

    /// Access tokens issued.
    public var tokensIssued: Int { state.withLock { $0.tokensIssued } }

    /// API calls counted against the daily limit.
    public var apiUsed: Int { state.withLock { $0.apiUsed } }
}
