import Foundation
import SalesforceResilience

/// Decides, for each request, which of a list of ``ChaosFault``s strike: the one source of fault
/// decisions for both ``ChaosTransport`` (in memory) and ``LoopbackHTTPServer`` (at the socket),
/// so a schedule means the same thing on both sides of the wire.
///
/// Windows are measured from ``origin`` on ``clock``. Every matching fault rolls once per request,
/// in order, from a seeded generator: the same seed and the same request order replay the same run.
public final class ChaosSchedule: Sendable {
    /// What the schedule decided for one request.
    public struct Plan: Sendable, Hashable {
        /// Delay to add before anything else (the sum of the latency faults that struck).
        public var latency: Duration
        /// The fault that decides the request's fate, or `nil` to serve it normally.
        public var outcome: ChaosFault.Effect?
    }

    /// The faults, checked in order.
    public let faults: [ChaosFault]
    /// The seed the run can be replayed from.
    public let seed: UInt64
    /// The clock windows are read on.
    public let clock: any ResilienceClock
    /// The instant windows are measured from.
    public let origin: ResilienceInstant
    private let random: RandomSource
    private let injected = Lock<[String: Int]>([:])
    /// Strikes so far by fault index, for faults with a ``ChaosFault/limit``.
    private let strikes = Lock<[Int: Int]>([:])

    /// Creates a schedule.
    ///
    /// - Parameter origin: where fault windows start counting; default the clock's own origin.
    public init(faults: [ChaosFault], seed: UInt64, clock: any ResilienceClock, origin: ResilienceInstant = .origin) {
        self.faults = faults
        self.seed = seed
        self.clock = clock
        self.origin = origin
        self.random = RandomSource(seed: seed)
    }

    /// How many times each fault struck, by ``ChaosFault/name``.
    public var statistics: [String: Int] { injected.withLock { $0 } }

    /// Rolls the faults for `request` now. Latency faults add up; the first other fault that
    /// strikes decides the outcome and ends the rolls.
    public func plan(for request: HTTPRequest) -> Plan {
        let elapsed = clock.now - origin
        var plan = Plan(latency: .zero, outcome: nil)
        for (index, fault) in faults.enumerated() where fault.applies(to: request, at: elapsed) {
            if let limit = fault.limit, strikes.withLock({ $0[index, default: 0] }) >= limit { continue }
            guard random.nextUnit() < fault.probability else { continue }
            if fault.limit != nil { strikes.withLock { $0[index, default: 0] += 1 } }
            injected.withLock { $0[fault.name, default: 0] += 1 }
            switch fault.effect {
            case .latency(let delay):
                plan.latency += delay
            case .serverError(let statuses):
                let status = statuses.isEmpty ? 500 : statuses[Int(random.next() % UInt64(statuses.count))]
                plan.outcome = .respond(status: status, retryAfter: nil, html: true)
                return plan
            default:
                plan.outcome = fault.effect
                return plan
            }
        }
        return plan
    }

    /// The response a `respond` outcome stands for: empty, or an HTML page from an edge proxy.
    public static func response(status: Int, retryAfter: String?, html: Bool) -> HTTPResponse {
        var response: HTTPResponse = html ? .html(status, title: "\(status) Service Unavailable") : .status(status)
        if let retryAfter { response.headers["Retry-After"] = retryAfter }
        return response
    }
}
