import Foundation

/// A Salesforce REST client whose every call runs through the resilience pipeline:
///
/// `Admission → [call middleware] → Metrics → Deadline → Retry → [attempt middleware] → CircuitBreaker → AdaptiveThrottle → Auth → LimitsObserver → transport`
///
/// Operations (``upsert(_:externalIdField:value:fields:priority:)``, ``query(_:as:priority:)``…)
/// only describe requests; the pipeline retries, refreshes tokens and fails fast.
///
/// ```swift
/// let client = try SalesforceClient(
///     configuration: .init(instanceURL: URL(string: "https://acme.my.salesforce.com")!),
///     tokenProvider: StaticTokenProvider(accessToken: token))
/// let result = try await client.upsert("Payment__c", externalIdField: "Reference__c",
///                                      value: "PAY-000001", fields: payment)
/// ```
public final class SalesforceClient: Sendable {
    /// The configuration in force.
    public let configuration: SalesforceConfiguration
    /// The middleware chain every call goes through.
    public let pipeline: Pipeline
    /// The shared token store.
    public let tokens: TokenStore
    /// The circuit breakers, one per host.
    public let breakers: CircuitBreakerRegistry
    /// The send rate every caller of this client shares when Salesforce throttles it.
    public let throttle: AdaptiveThrottle
    /// The client-wide retry budget.
    public let retryBudget: RetryBudget
    /// The API budget guard, fed by `Sforce-Limit-Info` on every response.
    public let budgetGuard: APIBudgetGuard
    /// The operator's kill switch; see ``mode``.
    public let modes: ModeSwitch
    /// Success rate, failures by code and category, latency percentiles, retries, breaker opens.
    public let metrics: MetricsRecorder
    /// The clock every wait uses.
    public let clock: any ResilienceClock
    /// The client-wide slots for sObject Collections calls
    /// (``SalesforceConfiguration/collectionsCallLimit``).
    public let collectionsSlots: CallSlots
    /// Where events go.
    public let events: ResilienceEventSink
    /// `https://host/services/data/vXX.X` on the configured instance.
    private let dataBase: String

    /// Creates a client.
    ///
    /// - Throws: ``AuthenticationError/insecureInstanceURL(_:)`` for an instance URL that is
    ///   not https (or loopback http when allowed); ``SalesforceClientError/invalidArgument(_:)``
    ///   for an instance URL with a path, query or fragment, or an API version that is not `NN.N`.
    public init(
        configuration: SalesforceConfiguration, transport: any HTTPTransport = StandardTransport.make(),
        tokenProvider: any TokenProvider, events: ResilienceEventSink = .none, clock: any ResilienceClock = SystemClock(),
        random: RandomSource = .system()
    ) throws {
        try InstanceURLPolicy.validate(configuration.instanceURL, allowHTTPLoopback: configuration.allowHTTPLoopback)
        if let problem = InstanceURLPolicy.shapeProblem(of: configuration.instanceURL) {
            throw SalesforceClientError.invalidArgument(
                "instance URL \(Redaction.redactURL(configuration.instanceURL)) \(problem): give the org's base URL, such as https://acme.my.salesforce.com")
        }
        guard SalesforceConfiguration.isAPIVersion(configuration.apiVersion) else {
            throw SalesforceClientError.invalidArgument(
                "apiVersion \"\(configuration.apiVersion)\" is not a version number such as \"\(SalesforceConfiguration.defaultAPIVersion)\" (digits, a dot, a digit; no \"v\")")
        }
        self.configuration = configuration
        self.clock = clock
        self.collectionsSlots = CallSlots(limit: configuration.collectionsCallLimit)
        let metrics = MetricsRecorder()
        self.metrics = metrics
        // Every event reaches the caller's sink and the metrics.
        let events = ResilienceEventSink { event in
            metrics.record(event)
            events.emit(event)
        }
        self.events = events
        let tokens = TokenStore(
            provider: tokenProvider, clock: clock, events: events,
            credentials: configuration.credentialStore ?? InMemoryCredentialStore(), options: configuration.tokenRefresh)
        let breakers = CircuitBreakerRegistry(options: configuration.circuitBreaker, clock: clock, events: events)
        let throttle = AdaptiveThrottle(options: configuration.adaptiveThrottle, clock: clock, events: events)
        self.throttle = throttle
        let budget = RetryBudget(options: configuration.retryBudget)
        let budgetGuard = APIBudgetGuard(options: configuration.apiBudget, events: events)
        let modes = ModeSwitch(configuration.initialMode, events: events)
        self.tokens = tokens
        self.breakers = breakers
        self.retryBudget = budget
        self.budgetGuard = budgetGuard
        self.modes = modes
        self.pipeline = StandardChain(
            configuration: configuration, modes: modes, budgetGuard: budgetGuard, metrics: metrics, retryBudget: budget,
            breakers: breakers, throttle: throttle, tokens: tokens, clock: clock, events: events, random: random
        ).pipeline(transport: transport)
        self.dataBase = configuration.instanceURL.baseText + "/services/data/v\(configuration.apiVersion)"
    }

    /// The latest `Sforce-Limit-Info` figure, or `nil` before any response carried one.
    public var apiUsage: APIUsage? { budgetGuard.latest }

    /// The operating mode. Set it at run time (no restart) to shed load or stop traffic:
    /// requests in flight finish, new ones follow the new mode.
    public var mode: OperatingMode {
        get { modes.mode }
        set { modes.mode = newValue }
    }

    /// Sends a request through the pipeline. Operations use this; so can you, for endpoints the
    /// client does not wrap.
    public func send(_ request: HTTPRequest, context: RequestContext) async throws -> HTTPResponse {
        try await pipeline.send(request, context: context)
    }

    /// The base URL for requests: the token's `instance_url` if it has one, else the configured one.
    ///
    /// With no token in hand this waits for one — a fetch, or one another caller started — but
    /// no longer than ``SalesforceConfiguration/callTimeout``: a login endpoint that stalls fails
    /// the call with ``DeadlineExceededError`` instead of holding it (and an outbox batch's claim).
    public func baseURL() async throws -> URL {
        if let token = tokens.cachedToken { return token.instanceURL ?? configuration.instanceURL }
        let tokens = self.tokens
        let deadline = clock.now + configuration.callTimeout.atLeast(OptionLimits.timeout)
        let token = try await withTimeLimit(at: deadline, clock: clock, expired: { DeadlineExceededError(operation: "token", deadline: deadline) }) {
            try await tokens.token()
        }
        return token.instanceURL ?? configuration.instanceURL
    }

    /// The URL of `/services/data/vXX.X/` followed by already-encoded path segments and query,
    /// on the configured instance (``AuthMiddleware`` re-addresses it to the token's).
    func dataURL(_ segments: [String], query: String? = nil) throws -> URL {
        var text = dataBase
        for segment in segments { text += "/" + segment }
        if let query { text += "?" + query }
        guard let url = URL(string: text) else { throw SalesforceClientError.invalidArgument("cannot form a URL for \(segments.joined(separator: "/"))") }
        return url
    }

    /// A URL for a server-given path such as `nextRecordsUrl`, refusing anything outside `/services/data/`.
    func serverPathURL(_ path: String) throws -> URL {
        guard path.hasPrefix("/services/data/"), !path.contains("//"), !path.contains("..") else {
            throw SalesforceClientError.unexpectedResponse(operation: "follow link", detail: "refusing to follow \(path)")
        }
        guard let url = URL(string: configuration.instanceURL.baseText + path) else {
            throw SalesforceClientError.unexpectedResponse(operation: "follow link", detail: "invalid path \(path)")
        }
        return url
    }

    /// Sends a JSON request and decodes a JSON answer.
    func sendJSON<Response: Decodable>(
        _ method: HTTPMethod, _ url: URL, body: Data? = nil, context: RequestContext, as type: Response.Type
    ) async throws -> Response {
        let response = try await send(jsonRequest(method, url, body: body), context: context)
        return try decode(type, from: response.body, operation: context.operation)
    }

    func jsonRequest(_ method: HTTPMethod, _ url: URL, body: Data?) -> HTTPRequest {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        if body != nil { headers["Content-Type"] = "application/json" }
        return HTTPRequest(method: method, url: url, headers: headers, body: body)
    }

    func decode<T: Decodable>(_ type: T.Type, from data: Data, operation: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw SalesforceClientError.unexpectedResponse(
                operation: operation, detail: "could not decode \(T.self): \(OutcomeClassifier.rawText(data))")
        }
    }

    func encode<T: Encodable>(_ value: T, operation: String) throws -> Data {
        do {
            return try JSONEncoder().encode(value)
        } catch {
            throw SalesforceClientError.invalidArgument("\(operation): could not encode \(T.self): \(error)")
        }
    }
}

/// A mistake in how an operation was called, or a 2xx answer that cannot be used.
public enum SalesforceClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An argument would produce a wrong or dangerous request (an empty external id, an
    /// sObject name with a `/`).
    case invalidArgument(String)
    /// An upsert's external id matched several records (HTTP 300); the record URLs are listed.
    case multipleMatches(operation: String, recordURLs: [String])
    /// A successful status with a body that is not what the API documents (truncated,
    /// not JSON, wrong shape). The detail holds a redacted, truncated copy of the body.
    case unexpectedResponse(operation: String, detail: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .invalidArgument(let detail): "invalid argument: \(detail)"
        case .multipleMatches(let operation, let urls): "\(operation): external id matches \(urls.count) records: \(urls.joined(separator: ", "))"
        case .unexpectedResponse(let operation, let detail): "\(operation): unexpected response: \(detail)"
        }
    }
}
