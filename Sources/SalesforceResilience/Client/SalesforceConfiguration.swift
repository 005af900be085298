import Foundation

/// Everything a ``SalesforceClient`` needs to know besides its transport and credentials.
public struct SalesforceConfiguration: Sendable {
    /// The org's instance or My Domain URL, such as `https://acme.my.salesforce.com`. A token
    /// response's `instance_url` takes precedence once a token has been fetched.
    public var instanceURL: URL
    /// The REST API version, without the `v`. Default `"62.0"`.
    public var apiVersion: String
    /// Retries per call.
    public var retryPolicy: RetryPolicy
    /// The client-wide retry budget.
    public var retryBudget: RetryBudget.Options
    /// The per-host circuit breaker.
    public var circuitBreaker: CircuitBreakerOptions
    /// The total time a call may take, retries and waits included. Default 120 s.
    public var callTimeout: Duration
    /// Accept `http` instance URLs on loopback addresses (for a local simulator). Default `false`.
    public var allowHTTPLoopback: Bool
    /// sObject Collections chunks sent at once. Default 2: parallel chunks on the same object
    /// raise row-lock contention, and the org's concurrent-request limit is shared.
    public var collectionsConcurrency: Int
    /// sObject Collections calls in flight at once across the whole client: every caller's
    /// chunks and every ``Outbox`` batch share these slots (``SalesforceClient/collectionsSlots``).
    /// Default 10, well under the 25 long-running requests Salesforce allows an org at once
    /// (other clients and processes of the org count toward those 25 too).
    public var collectionsCallLimit: Int = 10
    /// An attempt with less time than this left before the call's deadline is not sent: the
    /// time went to waits or to fetching a token, and a request cut in flight leaves its outcome
    /// unknown (an outbox would have to treat it as possibly still running). Default 1 s, or a
    /// quarter of ``callTimeout`` when that is shorter.
    public var minimumAttemptTime: Duration {
        get { minimumAttemptTimeSetting ?? min(.seconds(1), callTimeout / 4) }
        set { minimumAttemptTimeSetting = newValue }
    }
    private var minimumAttemptTimeSetting: Duration?
    /// How failures are classified.
    public var classifier: OutcomeClassifier
    /// The mode the client starts in. Default `.normal`; pass
    /// `OperatingMode.fromEnvironment()` to honour `SF_CRITICAL_ONLY` and `SF_FALLBACK_MODE`.
    public var initialMode: OperatingMode
    /// When the API budget guard warns and starts shedding non-critical work.
    public var apiBudget: APIBudgetGuard.Options
    /// The Salesforce status (trust) API used by ``SalesforceClient/triage()``.
    /// Default `https://api.status.salesforce.com/v1`.
    public var statusAPIBaseURL: URL
    /// The org's instance key (such as `NA45`, shown in Setup → Company Information), for the
    /// status API; `nil` skips the instance check.
    public var instanceKey: String?
    /// Middleware of yours that sees each call once, whatever its retries: inside the admission
    /// gate, outside metrics, deadline and retry (a tracing span per call, say). Default none.
    public var callMiddleware: [any Middleware] = []
    /// Middleware of yours that sees each attempt: inside the retry, outside the circuit breaker,
    /// so a refusal by an open breaker is an attempt too (a tracing span per attempt). Default none.
    public var attemptMiddleware: [any Middleware] = []
    /// Where the access token and refresh token live. Default `nil`: this client's own memory.
    /// Give every process that uses the same connected app and user the same
    /// ``FileCredentialStore`` (one machine) or database store (many machines), and they share
    /// one refresh per expiry, safely under Refresh Token Rotation.
    public var credentialStore: (any CredentialStore)?
    /// The token endpoint's guards: refresh-loop detection, the cool-down after a refusal, the
    /// wait for another process's refresh.
    public var tokenRefresh: TokenRefreshOptions = .default
    /// The client's own send rate under throttling: lowered on 429 and concurrency-limit
    /// answers, raised again when they stop. Default on (``AdaptiveThrottleOptions/default``).
    public var adaptiveThrottle: AdaptiveThrottleOptions = .default

    /// The default API version.
    public static let defaultAPIVersion = "62.0"

    /// Whether `text` is an API version as Salesforce writes it in paths after the `v`: two or
    /// three digits, a dot, one digit (`62.0`).
    public static func isAPIVersion(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && (2...3).contains(parts[0].count) && parts[1].count == 1
            && parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }

    /// Creates a configuration with the defaults above.
    public init(
        instanceURL: URL, apiVersion: String = SalesforceConfiguration.defaultAPIVersion, retryPolicy: RetryPolicy = .default,
        retryBudget: RetryBudget.Options = .default, circuitBreaker: CircuitBreakerOptions = .default,
        callTimeout: Duration = .seconds(120), allowHTTPLoopback: Bool = false, collectionsConcurrency: Int = 2,
        classifier: OutcomeClassifier = OutcomeClassifier(), initialMode: OperatingMode = .normal,
        apiBudget: APIBudgetGuard.Options = .default,
        statusAPIBaseURL: URL = URL(string: "https://api.status.salesforce.com/v1")!, instanceKey: String? = nil
    ) {
        self.statusAPIBaseURL = statusAPIBaseURL
        self.instanceKey = instanceKey
        self.initialMode = initialMode
        self.apiBudget = apiBudget
        self.instanceURL = instanceURL
        self.apiVersion = apiVersion
        self.retryPolicy = retryPolicy
        self.retryBudget = retryBudget
        self.circuitBreaker = circuitBreaker
        self.callTimeout = callTimeout
        self.allowHTTPLoopback = allowHTTPLoopback
        self.collectionsConcurrency = max(1, collectionsConcurrency)
        self.classifier = classifier
    }
}
