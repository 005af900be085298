import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// What the client refuses to be configured with, and what it raises to a minimum.
@Suite struct ConfigurationValidationTests {
    func client(instance: String = "https://acme.my.salesforce.com", apiVersion: String = "62.0") throws -> SalesforceClient {
        try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: URL(string: instance)!, apiVersion: apiVersion),
                             transport: MockTransport { _ in .status(200) }, tokenProvider: StaticTokenProvider(accessToken: "t"))
    }

    @Test(arguments: ["https://acme.my.salesforce.com/?x=1", "https://acme.my.salesforce.com/#frag", "https://acme.my.salesforce.com/some/path",
                      "https://user:pass@acme.my.salesforce.com"])
    func anInstanceURLThatIsNotABaseURLIsRefused(url: String) {
        let error = #expect(throws: SalesforceClientError.self) { try client(instance: url) }
        #expect(String(describing: error).contains("give the org's base URL"))
    }

    @Test func aBaseURLWithATrailingSlashOrAPortIsFine() throws {
        _ = try client(instance: "https://acme.my.salesforce.com/")
        _ = try client(instance: "https://acme.my.salesforce.com:8443")
    }

    @Test(arguments: ["v62.0", "62", "62.0/../../../services/oauth2", "6.0", "62.00", "٦٢.٠", ""])
    func anAPIVersionThatIsNotNNDotNIsRefused(version: String) {
        let error = #expect(throws: SalesforceClientError.self) { try client(apiVersion: version) }
        #expect(String(describing: error).contains("is not a version number"))
    }

    @Test func versionsAsSalesforceWritesThemAreAccepted() throws {
        _ = try client(apiVersion: "62.0")
        _ = try client(apiVersion: "100.0")
    }

    @Test(arguments: [".", "..", "..."])
    func anExternalIdMadeOnlyOfDotsIsRefusedForThePathButTravelsInACollection(value: String) async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let error = await #expect(throws: SalesforceClientError.self) {
            try await client.upsert("Payment__c", externalIdField: "Reference__c", value: value, fields: ["Amount__c": 1.0])
        }
        #expect(String(describing: error).contains("only dots"))
        #expect(org.calls["PATCH upsert"] == nil)
        let results = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: [["Reference__c": value]])
        #expect(results.first?.success == true)
        #expect(org.countsByValue(of: "Payment__c", field: "Reference__c")[value] == 1)
    }

    @Test func aTokenResponseWhoseInstanceURLHasAPathIsRefused() async throws {
        let transport = MockTransport { _ in .json(200, #"{"access_token":"t","instance_url":"https://acme.my.salesforce.com/services/data"}"#) }
        let provider = OAuthTokenProvider(loginURL: URL(string: "https://login.salesforce.com")!,
                                          grant: .clientCredentials(clientID: "id", clientSecret: "s"), transport: transport)
        let error = await #expect(throws: AuthenticationError.self) { try await provider.fetchToken() }
        #expect(String(describing: error).contains("instance_url has a path"))
    }
}

/// Durations below their minimum take effect as the minimum: nothing spins, nothing ends before it starts.
@Suite struct OptionPolicyTests {
    @Test func aZeroOrNegativeBackoffWaitsAtLeastAMillisecondAndGrowsToItsCap() {
        let backoff = Backoff(initial: .seconds(-5), multiplier: 2, maximum: .seconds(-1), jitter: .none)
        #expect(backoff.baseDelay(forRetry: 1) == .milliseconds(1))
        #expect(backoff.baseDelay(forRetry: 10) == .milliseconds(1))  // the cap is raised to the initial delay
        #expect(Backoff(initial: .zero, multiplier: 2, maximum: .seconds(30), jitter: .none).baseDelay(forRetry: 4) == .milliseconds(8))
    }

    @Test func aNegativeMaxRetryAfterHonoursNoRetryAfterRatherThanWaitingNegatively() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let recorder = EventRecorder()
        let transport = MockTransport(responses: [.success(.status(503, retryAfter: "30")), .success(.status(200))])
        let policy = RetryPolicy(backoff: Backoff(initial: .seconds(1), jitter: .none), maxRetryAfter: .seconds(-10))
        let pipeline = Pipeline(middleware: [RetryMiddleware(policy: policy, clock: clock, events: recorder.sink)], transport: transport)
        let request = HTTPRequest(method: .get, url: URL(string: "https://acme.my.salesforce.com/x")!)
        _ = try await pipeline.send(request, context: .forRequest(request))
        #expect(recorder.events.compactMap(\.retryDelay) == [.zero])
    }

    @Test func aZeroBreakStillPausesTheBreaker() async throws {
        let clock = VirtualClock(mode: .manual)
        let breaker = CircuitBreaker(key: "h", options: .init(consecutiveFailureThreshold: 1, samplingWindow: .zero, breakDuration: .seconds(-3)), clock: clock)
        let probe = try breaker.acquire(operation: "x")
        breaker.record(.failure(retryAfter: nil), probe: probe)
        #expect(breaker.state == .open)
        #expect(breaker.nextProbeAt == .origin + .milliseconds(100))
        #expect(throws: CircuitOpenError.self) { try breaker.acquire(operation: "x") }
    }

    @Test func aNegativeCallTimeoutStillLetsACallStart() async throws {
        let transport = MockTransport { _ in .status(200) }
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!, callTimeout: .seconds(-1)),
            transport: transport, tokenProvider: StaticTokenProvider(accessToken: "t"), clock: VirtualClock(mode: .manual))
        _ = try await client.send(HTTPRequest(method: .get, url: URL(string: "https://acme.my.salesforce.com/x")!),
                                  context: RequestContext(operation: "x", isIdempotent: true))
        #expect(transport.requestCount == 1)
    }

    @Test func bulkPollingNeverSpinsAndItsTimeoutIsAtLeastASecond() {
        let policy = BulkPollPolicy(initialInterval: .zero, factor: 1, maximumInterval: .seconds(-1), timeout: .seconds(-5))
        #expect(policy.interval(forPoll: 1) == .milliseconds(100))
        #expect(policy.interval(forPoll: 50) == .milliseconds(100))
    }
}
