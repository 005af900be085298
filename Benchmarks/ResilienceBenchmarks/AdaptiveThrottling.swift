import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

// (j) Adaptive throttling, in real time: an org that allows 50 requests per second and answers
// 429 above that, 200 requests per second offered for 20 s, with the client's adaptive send
// rate on and off. Delivered is successful calls per second over the run; the 429 share is of
// every answer the org gave.

/// Answers `limit` requests per whole second of the clock, and 429 to the rest.
final class RateLimitedOrg: HTTPTransport {
    let limit: Int
    let clock: any ResilienceClock
    private let counts = Lock<(window: Int64, used: Int, ok: Int, throttled: Int)>((-1, 0, 0, 0))

    init(limit: Int, clock: any ResilienceClock) {
        self.limit = limit
        self.clock = clock
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let window = clock.now.sinceOrigin.components.seconds
        let allowed = counts.withLock { counts in
            if counts.window != window { counts.window = window; counts.used = 0 }
            counts.used += 1
            let allowed = counts.used <= limit
            if allowed { counts.ok += 1 } else { counts.throttled += 1 }
            return allowed
        }
        return allowed ? .json(200, #"{"DailyApiRequests":{"Max":1000000,"Remaining":999000}}"#)
            : .salesforceError(429, code: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests")
    }

    var answered: (ok: Int, throttled: Int) { counts.withLock { ($0.ok, $0.throttled) } }
}

nonisolated func benchmarkJ() async throws {
    for adaptive in [true, false] {
        let clock = SystemClock()
        let org = RateLimitedOrg(limit: 50, clock: clock)
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://bench.my.salesforce.com")!, callTimeout: .seconds(10))
        configuration.adaptiveThrottle = AdaptiveThrottleOptions(isEnabled: adaptive)
        let client = try SalesforceClient(configuration: configuration, transport: org, tokenProvider: StaticTokenProvider(accessToken: "bench"),
                                          clock: clock)
        let succeeded = Lock(0)
        let seconds = 20
        let started = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for n in 0..<(200 * seconds) {
                group.addTask {
                    try? await Task.sleep(until: started + .milliseconds(5 * n), clock: .continuous)
                    if (try? await client.limits()) != nil { succeeded.withLock { $0 += 1 } }
                }
            }
            try? await Task.sleep(until: started + .seconds(seconds), clock: .continuous)
            group.cancelAll()
        }
        let (ok, throttled) = org.answered
        let delivered = Double(succeeded.withLock { $0 }) / Double(seconds)
        let share429 = Double(throttled) / Double(max(1, ok + throttled))
        Report.say(String(format: "(j) 200 requests/s offered for %d s to an org allowing 50/s, adaptive send rate %@: %.1f calls/s delivered (%.0f %% of the allowed rate), %.1f %% of %d answers were 429",
                          seconds, adaptive ? "on" : "off", delivered, delivered / 50 * 100, share429 * 100, ok + throttled))
        if adaptive {
            Report.figure("throttle_delivered_share", delivered / 50, unit: "share of the allowed rate", target: .atLeast(0.9), note: "real time, 20 s")
            Report.figure("throttle_429_share", share429, unit: "share of answers", target: .atMost(0.1), note: "real time, 20 s")
        }
    }
}
