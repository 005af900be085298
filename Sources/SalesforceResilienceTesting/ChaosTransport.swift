import Foundation
import SalesforceResilience
import Synchronization

/// A decorator over any ``HTTPTransport`` that injects faults on a schedule — storms of 503,
/// 429 bursts, HTML 5xx pages, latency, refused connections and lost responses — driven by a
/// clock and a seed, so every chaos run can be replayed from its seed.
///
/// Faults are checked in order for each request. Latency adds up; the first fault that answers
/// or fails the request wins. A lost response reaches the inner transport (the write is
/// committed) and then throws an ambiguous ``TransportError``.
public final class ChaosTransport: HTTPTransport {
    /// The transport behind the chaos.
    public let inner: any HTTPTransport
    /// The schedule.
    public let faults: [ChaosFault]
    /// The seed the run can be replayed from.
    public let seed: UInt64
    private let clock: any ResilienceClock
    private let random: RandomSource
    private let injected = Mutex<[String: Int]>([:])

    /// Wraps `inner` with `faults`.
    public init(wrapping inner: any HTTPTransport, clock: any ResilienceClock, seed: UInt64, faults: [ChaosFault]) {
        self.inner = inner
        self.clock = clock
        self.seed = seed
        self.faults = faults
        self.random = RandomSource(seed: seed)
    }

    /// How many times each fault fired, by ``ChaosFault/name``.
    public var statistics: [String: Int] { injected.withLock { $0 } }

    /// Sends `request` through the schedule.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let elapsed = clock.now.sinceOrigin
        var lose = false
        for fault in faults where fault.applies(to: request, at: elapsed) {
            // One roll per matching fault and request, in order: the same seed replays the same run.
            guard random.nextUnit() < fault.probability else { continue }
            injected.withLock { $0[fault.name, default: 0] += 1 }
            switch fault.effect {
            case .latency(let delay):
                try await clock.sleep(until: clock.now + delay)
            case .respond(let status, let retryAfter, let html):
                return Self.response(status: status, retryAfter: retryAfter, html: html)
            case .serverError(let statuses):
                let status = statuses.isEmpty ? 500 : statuses[Int(random.next() % UInt64(statuses.count))]
                return Self.response(status: status, retryAfter: nil, html: true)
            case .connectionFailure:
                throw TransportError.notSent(.connectionRefused, "chaos: connection refused")
            case .lostResponse:
                lose = true
            }
            if lose { break }
        }
        let response = try await inner.send(request)
        if lose { throw TransportError.ambiguous(.connectionLost, "chaos: response lost after the server processed the request") }
        return response
    }

    private static func response(status: Int, retryAfter: String?, html: Bool) -> HTTPResponse {
        var response: HTTPResponse = html ? .html(status, title: "\(status) Service Unavailable") : .status(status)
        if let retryAfter { response.headers["Retry-After"] = retryAfter }
        return response
    }
}
