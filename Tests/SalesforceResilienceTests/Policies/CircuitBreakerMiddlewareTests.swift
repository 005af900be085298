import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct CircuitBreakerMiddlewareTests {
    let clock = VirtualClock(mode: .manual)
    let registry: CircuitBreakerRegistry

    init() {
        registry = CircuitBreakerRegistry(options: .init(consecutiveFailureThreshold: 2, breakDuration: .seconds(30)), clock: clock)
    }

    func pipeline(_ transport: any HTTPTransport) -> Pipeline {
        Pipeline(middleware: [CircuitBreakerMiddleware(registry: registry, clock: clock)], transport: transport)
    }

    @Test func serverFailuresOpenTheBreakerAndLaterCallsAreNotSent() async throws {
        let transport = MockTransport { _ in .status(503) }
        let pipeline = pipeline(transport)
        for _ in 0..<2 { _ = try? await pipeline.send(makeRequest(), context: makeContext()) }
        await #expect(throws: CircuitOpenError.self) { try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(transport.requestCount == 2)
    }

    @Test(arguments: [
        HTTPResponse.salesforceError(400, code: "UNABLE_TO_LOCK_ROW"),
        HTTPResponse.salesforceError(401, code: "INVALID_SESSION_ID"),
        HTTPResponse.salesforceError(400, code: "MALFORMED_QUERY"),
        HTTPResponse.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded."),
    ])
    func rowLockAuthAndCodeErrorsDoNotCount(response: HTTPResponse) async throws {
        let transport = MockTransport { _ in response }
        let pipeline = pipeline(transport)
        for _ in 0..<5 { _ = try? await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(transport.requestCount == 5)
        #expect(registry.breaker(for: "test.my.salesforce.com").state == .closed)
    }

    /// Throws `error` from inside the chain, as a layer between the breaker and the wire does
    /// (the throttle, the token refresh) when the call never reaches Salesforce.
    struct FailBeforeTheWire: Middleware {
        let error: any Error & Sendable
        func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse { throw error }
    }

    static let neverSent: [any Error & Sendable] = [
        DeadlineExceededError(operation: "upsert", deadline: .origin),
        CredentialStoreError(description: "the credential store's lock was busy", isTransient: true),
        AuthenticationError.refused(TokenRefusal(code: "invalid_grant", detail: "expired access/refresh token", grant: "refresh_token")),
    ]

    @Test(arguments: 0..<neverSent.count)
    func aProbeThatNeverReachedSalesforceNeitherClosesNorCountsAgainstTheBreaker(_ index: Int) async throws {
        let breaker = registry.breaker(for: "test.my.salesforce.com")
        breaker.trip(for: .seconds(30))
        await clock.advance(by: .seconds(30))
        let transport = MockTransport { _ in .status(200) }
        let refused = Pipeline(middleware: [CircuitBreakerMiddleware(registry: registry, clock: clock), FailBeforeTheWire(error: Self.neverSent[index])],
                               transport: transport)
        _ = try? await refused.send(makeRequest(), context: makeContext())
        #expect(breaker.state == .halfOpen, "a probe that was never sent changed the breaker to \(breaker.state)")
        // The probe slot was given back: a real probe goes out and closes it.
        _ = try await pipeline(transport).send(makeRequest(), context: makeContext())
        #expect(breaker.state == .closed)
        // And on a closed breaker the same failures never open it.
        for _ in 0..<5 { _ = try? await refused.send(makeRequest(), context: makeContext()) }
        #expect(breaker.state == .closed)
    }

    @Test func anOpeningAdoptedFromElsewhereIsCappedByTheMaximumBreak() {
        let breaker = CircuitBreaker(key: "host", options: .init(breakDuration: .seconds(8), maxBreakDuration: .seconds(60)), clock: clock)
        breaker.trip(for: .seconds(600))  // a worker whose clock runs 10 minutes fast
        #expect(breaker.nextProbeAt == clock.now + .seconds(60))
    }

    @Test func breakersAreKeyedPerHost() async throws {
        let transport = MockTransport { request in request.url.host == "down.example.com" ? .status(503) : .status(200) }
        let pipeline = pipeline(transport)
        for _ in 0..<2 { _ = try? await pipeline.send(makeRequest(host: "down.example.com"), context: makeContext()) }
        _ = try await pipeline.send(makeRequest(host: "up.example.com"), context: makeContext())
        #expect(registry.breaker(for: "down.example.com").state == .open)
        #expect(registry.breaker(for: "up.example.com").state == .closed)
    }

    @Test func aURLFindsItsHostsBreakerAndOnlyItsHosts() throws {
        let acme = registry.breaker(for: "acme.my.salesforce.com")
        // The first lookup remembers the origin; later ones match it by prefix.
        for url in ["https://acme.my.salesforce.com/services/data/v62.0/limits", "https://acme.my.salesforce.com",
                    "https://acme.my.salesforce.com:8443/x", "https://acme.my.salesforce.com?q=1", "https://acme.my.salesforce.com#f",
                    "https://user@acme.my.salesforce.com/services"] {
            #expect(registry.breaker(for: try #require(URL(string: url))) === acme, "\(url)")
        }
        // A host that merely starts with the remembered one is another host.
        for (url, host) in [("https://acme.my.salesforce.com.evil.example/services", "acme.my.salesforce.com.evil.example"),
                            ("https://acme.my.salesforce.company/services", "acme.my.salesforce.company"),
                            ("http://acme.my.salesforce.com/services", "acme.my.salesforce.com")] {
            let breaker = registry.breaker(for: try #require(URL(string: url)))
            #expect(breaker === registry.breaker(for: host), "\(url)")
            #expect(breaker.key == host)
        }
        #expect(registry.breaker(for: try #require(URL(string: "https://acme.my.salesforce.com/a"))) === acme)
        #expect(Set(registry.all.keys) == ["acme.my.salesforce.com", "acme.my.salesforce.com.evil.example", "acme.my.salesforce.company"])
    }

    @Test func retryAfterFromTheServerLengthensTheBreak() async throws {
        let transport = MockTransport { _ in .status(503, retryAfter: "120") }
        let pipeline = pipeline(transport)
        for _ in 0..<2 { _ = try? await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(registry.breaker(for: "test.my.salesforce.com").nextProbeAt == .origin + .seconds(120))
    }

    @Test func recoversThroughAProbeAfterTheBreak() async throws {
        let clock = self.clock
        let transport = MockTransport { _ in clock.elapsed < .seconds(10) ? .status(503) : .status(200) }
        let pipeline = pipeline(transport)
        for _ in 0..<2 { _ = try? await pipeline.send(makeRequest(), context: makeContext()) }
        await clock.advance(by: .seconds(30))
        let response = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(response.status == 200)
        #expect(registry.breaker(for: "test.my.salesforce.com").state == .closed)
    }

    @Test func retryDoesNotSpinOnAnOpenCircuit() async throws {
        let transport = MockTransport { _ in .status(503) }
        let recorder = EventRecorder()
        let retry = RetryMiddleware(policy: RetryPolicy(maxAttempts: 50), clock: VirtualClock(mode: .autoAdvance), events: recorder.sink)
        let pipeline = Pipeline(middleware: [retry, CircuitBreakerMiddleware(registry: registry, clock: clock)], transport: transport)
        await #expect(throws: CircuitOpenError.self) { try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(transport.requestCount == 2)
        // Two 503s were retried; the third attempt was refused by the open breaker and not retried.
        #expect(recorder.events.compactMap(\.retryDelay).count == 2)
        #expect(recorder.events.filter { if case .attemptStarted = $0 { true } else { false } }.count == 3)
    }

    @Test func retryCanWaitForTheNextProbeWhenAllowed() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let registry = CircuitBreakerRegistry(options: .init(consecutiveFailureThreshold: 2, breakDuration: .seconds(30)), clock: clock)
        let transport = MockTransport { _ in clock.elapsed < .seconds(5) ? .status(503) : .status(200) }
        let policy = RetryPolicy(maxAttempts: 5, backoff: Backoff(initial: .seconds(1), jitter: .none), waitForOpenCircuit: true)
        let pipeline = Pipeline(
            middleware: [RetryMiddleware(policy: policy, clock: clock), CircuitBreakerMiddleware(registry: registry, clock: clock)],
            transport: transport)
        let response = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(response.status == 200)
        #expect(transport.requestCount == 3)  // two failures, then the probe after the 30 s break
        #expect(clock.elapsed >= .seconds(30))
    }
}
