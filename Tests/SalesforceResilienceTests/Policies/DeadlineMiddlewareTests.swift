import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization
import Testing

@Suite struct DeadlineMiddlewareTests {
    final class Seen: Sendable { let deadline = Mutex<ResilienceInstant?>(nil) }

    struct Capture: Middleware {
        let seen: Seen
        func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
            seen.deadline.withLock { $0 = context.deadline }
            return try await next(request, context)
        }
    }

    @Test func setsTheDeadlineFromTheTimeout() async throws {
        let clock = VirtualClock()
        await clock.advance(by: .seconds(5))
        let seen = Seen()
        let pipeline = Pipeline(middleware: [DeadlineMiddleware(timeout: .seconds(30), clock: clock), Capture(seen: seen)], transport: MockTransport { _ in .status(200) })
        _ = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(seen.deadline.withLock { $0 } == .origin + .seconds(35))
    }

    @Test func keepsAnEarlierDeadlineFromTheCaller() async throws {
        let seen = Seen()
        let pipeline = Pipeline(middleware: [DeadlineMiddleware(timeout: .seconds(30), clock: VirtualClock()), Capture(seen: seen)], transport: MockTransport { _ in .status(200) })
        var context = makeContext()
        context.deadline = .origin + .seconds(3)
        _ = try await pipeline.send(makeRequest(), context: context)
        #expect(seen.deadline.withLock { $0 } == .origin + .seconds(3))
    }

    @Test func refusesToStartAfterTheDeadline() async throws {
        let clock = VirtualClock()
        await clock.advance(by: .seconds(10))
        let transport = MockTransport { _ in .status(200) }
        let pipeline = Pipeline(middleware: [DeadlineMiddleware(clock: clock)], transport: transport)
        var context = makeContext()
        context.deadline = .origin + .seconds(9)
        await #expect(throws: DeadlineExceededError.self) { try await pipeline.send(makeRequest(), context: context) }
        #expect(transport.requestCount == 0)
    }
}
