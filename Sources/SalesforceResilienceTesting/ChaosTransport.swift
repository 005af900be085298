import Foundation
import SalesforceResilience

/// A decorator over any ``HTTPTransport`` that injects faults on a schedule — storms of 503,
/// 429 bursts, HTML 5xx pages, latency, refused connections and lost responses — driven by a
/// clock and a seed, so every chaos run can be replayed from its seed.
///
/// The ``ChaosSchedule`` decides each request's fate; ``LoopbackHTTPServer`` applies the same
/// schedule at the socket. A lost response reaches the inner transport (the write is committed)
/// and then throws an ambiguous ``TransportError``.
public final class ChaosTransport: HTTPTransport {
    /// The transport behind the chaos.
    public let inner: any HTTPTransport
    /// The decisions.
    public let schedule: ChaosSchedule
    private let clock: any ResilienceClock

    /// Wraps `inner` with `faults`, windows measured from the clock's origin.
    public convenience init(wrapping inner: any HTTPTransport, clock: any ResilienceClock, seed: UInt64, faults: [ChaosFault]) {
        self.init(wrapping: inner, schedule: ChaosSchedule(faults: faults, seed: seed, clock: clock))
    }

    /// Wraps `inner` with a schedule.
    public init(wrapping inner: any HTTPTransport, schedule: ChaosSchedule) {
        self.inner = inner
        self.schedule = schedule
        self.clock = schedule.clock
    }

    /// The schedule's faults.
    public var faults: [ChaosFault] { schedule.faults }
    /// The seed the run can be replayed from.
    public var seed: UInt64 { schedule.seed }
    /// How many times each fault fired, by ``ChaosFault/name``.
    public var statistics: [String: Int] { schedule.statistics }

    /// Whether the inner transport honours ``HTTPRequest/timeout``: the chaos's own waits (latency,
    /// stalls, slow drips) do, on the schedule's clock.
    public var honoursRequestTimeout: Bool { inner.honoursRequestTimeout }

    /// Sends `request` through the schedule.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let plan = schedule.plan(for: request)
        let end = request.timeout.map { clock.now + $0 }
        /// Sleeps `duration`, or until the attempt's timeout and then fails as a real client would.
        func wait(_ duration: Duration) async throws {
            let until = clock.now + duration
            if let end, end <= until {
                try await clock.sleep(until: end)
                throw TransportError.ambiguous(.timedOut, "chaos: no complete answer within the request's timeout")
            }
            try await clock.sleep(until: until)
        }
        if plan.latency > .zero { try await wait(plan.latency) }
        switch plan.outcome {
        case nil:
            return try await inner.send(request)
        case .respond(let status, let retryAfter, let html)?:
            return ChaosSchedule.response(status: status, retryAfter: retryAfter, html: html)
        case .answer(let response)?:
            return response
        case .connectionFailure?:
            throw TransportError.notSent(.connectionRefused, "chaos: connection refused")
        case .lostResponse?, .resetMidResponse?:
            _ = try await inner.send(request)
            throw TransportError.ambiguous(.connectionLost, "chaos: response lost after the server processed the request")
        case .stall(let duration)?:
            _ = try await inner.send(request)
            try await wait(duration)
            throw TransportError.ambiguous(.timedOut, "chaos: no answer within \(duration)")
        case .slowDrip(let bytes, let interval)?:
            let response = try await inner.send(request)
            let pieces = max(1, (response.body.count + bytes - 1) / bytes)
            try await wait(interval * pieces)
            return response
        case .latency?, .serverError?:
            // The schedule folds these into `latency` and `respond`.
            return try await inner.send(request)
        }
    }
}
