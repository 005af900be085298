import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Middleware of the caller's own, at the two places the client's chain offers them.
@Suite struct ClientMiddlewareTests {
    /// Counts what passes through it.
    final class Counter: Middleware {
        let seen = Lock<[Int]>([])
        func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
            seen.withLock { $0.append(context.attempt) }
            return try await next(request, context)
        }
    }

    @Test func callMiddlewareSeesEachCallOnceAndAttemptMiddlewareEachAttempt() async throws {
        let transport = MockTransport(responses: [.success(.status(503)), .success(.status(503)), .success(.json(200, "{}"))])
        let calls = Counter()
        let attempts = Counter()
        let client = try makeClient(transport) {
            $0.callMiddleware = [calls]
            $0.attemptMiddleware = [attempts]
        }
        _ = try await client.send(HTTPRequest(method: .get, url: testInstance.appendingPathComponent("x")),
                                  context: RequestContext(operation: "probe", isIdempotent: true))
        #expect(calls.seen.withLock { $0 } == [1])
        #expect(attempts.seen.withLock { $0 } == [1, 2, 3])
    }

    @Test func thePipelineListsTheStandardChainInItsOrder() throws {
        let client = try makeClient(MockTransport { _ in .status(200) }) {
            $0.callMiddleware = [Counter()]
            $0.attemptMiddleware = [Counter()]
        }
        let names = client.pipeline.middleware.map { String(describing: type(of: $0)) }
        #expect(names == ["AdmissionMiddleware", "Counter", "MetricsMiddleware", "DeadlineMiddleware", "RetryMiddleware", "Counter",
                          "CircuitBreakerMiddleware", "AdaptiveThrottleMiddleware", "AuthMiddleware", "LimitsObserverMiddleware"])
    }

    @Test func everyFinishedCallIsAnEventWithItsOutcome() async throws {
        let recorder = EventRecorder()
        let transport = MockTransport(responses: [.success(.json(200, "{}")), .success(.salesforceError(400, code: "MALFORMED_QUERY"))])
        let client = try makeClient(transport, recorder: recorder)
        let request = HTTPRequest(method: .get, url: testInstance.appendingPathComponent("x"))
        _ = try await client.send(request, context: RequestContext(operation: "first", isIdempotent: true))
        _ = try? await client.send(request, context: RequestContext(operation: "second", isIdempotent: true))
        let completed = recorder.events.compactMap { event -> (String, FailureCategory?, String?)? in
            if case .callCompleted(let operation, let outcome, let code, _) = event { return (operation, outcome, code) }
            return nil
        }
        #expect(completed.map(\.0) == ["first", "second"])
        #expect(completed[0].1 == nil && completed[1].1 == .clientError && completed[1].2 == "MALFORMED_QUERY")
    }
}
