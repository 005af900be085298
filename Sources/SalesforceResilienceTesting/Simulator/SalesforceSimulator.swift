import Foundation
import SalesforceResilience

/// An in-memory Salesforce org that is itself an ``HTTPTransport`` and speaks the REST wire
/// formats: the OAuth token endpoint with session expiry, sObject CRUD, upsert by external id,
/// sObject Collections upsert, a SOQL subset with paging, `/limits` and `Sforce-Limit-Info`
/// with a daily allowance, and injectable `UNABLE_TO_LOCK_ROW`.
///
/// Put a `ChaosTransport` in front of it to add storms, throttling and lost responses. Read its
/// invariants (``records(of:)``, ``duplicates(of:field:)``, ``calls``) after a run.
///
/// ```swift
/// let clock = VirtualClock(mode: .autoAdvance)
/// let org = SalesforceSimulator(clock: clock)
/// let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL),
///                                   transport: org, tokenProvider: org.clientCredentialsProvider(), clock: clock)
/// ```
public final class SalesforceSimulator: HTTPTransport {
    /// The options in force.
    public let options: SimulatorOptions
    let clock: any ResilienceClock
    let state = Lock(SimulatorState())

    /// Creates an empty org.
    public init(options: SimulatorOptions = SimulatorOptions(), clock: any ResilienceClock) {
        self.options = options
        self.clock = clock
    }

    // MARK: Transport

    /// `true`: the simulator answers at once.
    public var honoursRequestTimeout: Bool { true }

    /// Answers `request` as Salesforce would.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let now = clock.now
        let date = clock.wallClockNow
        return state.withLock { state in
            let (endpoint, response) = route(request, state: &state, now: now, date: date)
            state.calls[endpoint, default: 0] += 1
            state.statuses[response.status, default: 0] += 1
            return response
        }
    }

    private func route(_ request: HTTPRequest, state: inout SimulatorState, now: ResilienceInstant, date: Date) -> (String, HTTPResponse) {
        if let due = state.scheduledExpiries.first, now >= due {
            state.scheduledExpiries.removeAll { $0 <= now }
            state.sessions.removeAll()
        }
        let segments = Self.pathSegments(request.url)
        if segments == ["services", "oauth2", "token"], request.method == .post {
            return ("POST token", token(request, state: &state, now: now, date: date))
        }
        // The status (trust) API, served on any host so a test can point statusAPIBaseURL here.
        if segments.count == 4, segments[0] == "v1", segments[1] == "instances", segments[3] == "status" {
            let status = state.instanceStatus[segments[2].uppercased()] ?? "OK"
            return ("GET status instance", .json(200, JSONValue.object(["key": .string(segments[2].uppercased()), "status": .string(status), "environment": "production"]).description))
        }
        if segments == ["v1", "incidents", "active"] {
            return ("GET status incidents", .json(200, JSONValue.array(state.incidents).description))
        }
        guard segments.count >= 2, segments[0] == "services", segments[1] == "data" else {
            return ("unknown", Self.error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
        if segments.count == 2 {
            return ("GET versions", .json(200, #"[{"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"}]"#))
        }
        guard segments[2].hasPrefix("v") else { return ("unknown", Self.error(404, "NOT_FOUND", "The requested resource does not exist")) }
        let version = segments[2]
        guard let bearer = request.headers["Authorization"], bearer.hasPrefix("Bearer "),
              let expiry = state.sessions[String(bearer.dropFirst(7))], expiry.map({ now < $0 }) ?? true
        else {
            return ("unauthorised", Self.error(401, "INVALID_SESSION_ID", "Session expired or invalid"))
        }
        state.apiUsed += 1
        let usage = "api-usage=\(state.apiUsed)/\(options.dailyAPILimit)"
        var (endpoint, response): (String, HTTPResponse)
        if state.apiUsed > options.dailyAPILimit {
            (endpoint, response) = ("limit exceeded", Self.error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."))
        } else {
            (endpoint, response) = data(request, Array(segments.dropFirst(3)), version: version, state: &state, now: now)
        }
        response.headers["Sforce-Limit-Info"] = usage
        return (endpoint, response)
    }

    private func data(_ request: HTTPRequest, _ rest: [String], version: String, state: inout SimulatorState, now: ResilienceInstant) -> (String, HTTPResponse) {
        switch (request.method, rest.count, rest.first) {
        case (.post, 2, "sobjects"): return ("POST create", create(rest[1], request, state: &state))
        case (.get, 3, "sobjects"): return ("GET record", read(rest[1], id: rest[2], version: version, request: request, state: state))
        case (.patch, 3, "sobjects"): return ("PATCH update", update(rest[1], id: rest[2], request, state: &state))
        case (.delete, 3, "sobjects"): return ("DELETE record", delete(rest[1], id: rest[2], state: &state))
        case (.patch, 4, "sobjects"): return ("PATCH upsert", upsert(rest[1], field: rest[2], value: rest[3], request, version: version, state: &state))
        case (.patch, 4, "composite") where rest[1] == "sobjects":
            return ("PATCH collections", upsertCollection(rest[2], field: rest[3], request, state: &state))
        case (.get, 1, "query"), (.get, 1, "queryAll"):
            return ("GET query", query(request, all: rest[0] == "queryAll", version: version, state: &state))
        case (.get, 2, "query"), (.get, 2, "queryAll"):
            return ("GET query page", queryPage(cursor: rest[1], version: version, state: &state))
        case (_, _, "jobs") where rest.count >= 2:
            return bulk(request, Array(rest.dropFirst()), version: version, state: &state, now: now)
        case (.get, 1, "limits"):
            let remaining = max(0, options.dailyAPILimit - state.apiUsed)
            return ("GET limits", .json(200, #"{"DailyApiRequests":{"Max":\#(options.dailyAPILimit),"Remaining":\#(remaining)},"DataStorageMB":{"Max":1024,"Remaining":1024}}"#))
        default:
            return ("unknown", Self.error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
    }

    // MARK: OAuth

    private func token(_ request: HTTPRequest, state: inout SimulatorState, now: ResilienceInstant, date: Date) -> HTTPResponse {
        let form = Self.form(request.body)
        let grants = ["refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:jwt-bearer", "password"]
        guard let grant = form["grant_type"], grants.contains(grant) else {
            return .json(400, #"{"error":"unsupported_grant_type","error_description":"grant type not supported"}"#)
        }
        if let clientID = options.clientID, form["client_id"] != clientID, grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
            return .json(400, #"{"error":"invalid_client_id","error_description":"client identifier invalid"}"#)
        }
        if let secret = options.clientSecret, form["client_secret"] != secret,
           grant == "client_credentials" || (grant == "refresh_token" && form["client_secret"] != nil) {
            return .json(400, #"{"error":"invalid_client","error_description":"invalid client credentials"}"#)
        }
        var rotated: String?
        if grant == "refresh_token" {
            if state.refreshTokensRevoked { return Self.invalidGrant }
            if options.refreshTokenRotation {
                switch state.refreshTokens[form["refresh_token"] ?? ""] {
                case true?:
                    state.refreshTokens[form["refresh_token"] ?? ""] = false
                    rotated = state.issueRefreshToken(organizationID: options.organizationID)
                case false?:
                    // A retired refresh token presented again: the whole family is revoked.
                    state.refreshTokensRevoked = true
                    state.familyRevocations += 1
                    state.sessions.removeAll()
                    return Self.invalidGrant
                case nil:
                    return Self.invalidGrant
                }
            }
        }
        state.tokensIssued += 1
        let token = "\(options.organizationID)!SIMTOKEN\(state.tokensIssued)"
        state.sessions[token] = .some(options.sessionLifetime.map { now + $0 })
        let issuedAt = Int64(date.timeIntervalSince1970 * 1000)
        let refresh = rotated.map { #","refresh_token":"\#($0)""# } ?? ""
        return .json(200, #"{"access_token":"\#(token)"\#(refresh),"instance_url":"\#(options.instanceURL.absoluteString)","id":"\#(options.instanceURL.absoluteString)/id/\#(options.organizationID)/005SIM000000001","token_type":"Bearer","issued_at":"\#(issuedAt)","signature":"c2ln","scope":"api refresh_token"}"#)
    }

    static let invalidGrant = HTTPResponse.json(400, #"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#)

    // MARK: Helpers

    /// The path's segments, each percent-decoded once (so an encoded `/` stays inside its segment).
    static func pathSegments(_ url: URL) -> [String] {
        let encoded = URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? url.path
        return encoded.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
    }

    static func form(_ body: Data?) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body ?? Data(), as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    static func error(_ status: Int, _ code: String, _ message: String, fields: [String] = []) -> HTTPResponse {
        .salesforceError(status, code: code, message: message, fields: fields)
    }
}
