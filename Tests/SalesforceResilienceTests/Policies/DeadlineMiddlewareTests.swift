import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct DeadlineMiddlewareTests {
    final class Seen: Sendable { let deadline = Lock<ResilienceInstant?>(nil) }

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

    @Test func anAttemptThatHangsPastTheCallTimeoutIsCutOffAtTheDeadline() async throws {
        let clock = VirtualClock(mode: .manual)
        let cancelled = Lock(false)
        // A transport that hangs for five minutes on the clock.
        let transport = MockTransport { _ in
            do {
                try await clock.sleep(for: .seconds(300))
            } catch {
                cancelled.withLock { $0 = true }
                throw error
            }
            return .status(200)
        }
        let pipeline = Pipeline(middleware: [DeadlineMiddleware(timeout: .seconds(10), clock: clock)], transport: transport)
        let call = Task { try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .seconds(10))
        let error = await #expect(throws: DeadlineExceededError.self) { try await call.value }
        #expect(error?.cutAttemptInFlight == true)
        #expect(error?.description.contains("may have been processed") == true)
        #expect(clock.elapsed == .seconds(10))
        #expect(cancelled.withLock { $0 }, "the hanging attempt was cancelled")
    }

    @Test func aTimeoutDoesNotMoveAnAutoAdvancingClock() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let pipeline = Pipeline(middleware: [DeadlineMiddleware(timeout: .seconds(120), clock: clock)], transport: MockTransport { _ in .status(200) })
        for _ in 0..<5 { _ = try await pipeline.send(makeRequest(), context: makeContext()) }
        #expect(clock.elapsed == .zero, "the call's guard timer fast-forwarded the clock")
    }
}
