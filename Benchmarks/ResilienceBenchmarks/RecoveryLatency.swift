import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

// (i) Recovery latency: how soon the outbox delivers after an outage ends, and what it spends
// during the outage. 100 seeds, each a 503 storm of its own length (30 s to 5 min, no
// `Retry-After`), starting 10 s in, with 2,000 payments already queued; virtual time.

/// Remembers when each delivered batch and each request that met the storm happened.
final class RecoveryWatch: HTTPTransport {
    let inner: any HTTPTransport
    let clock: any ResilienceClock
    let stormStart: Duration
    let stormEnd: Duration
    private let seen = Lock<(delivered: [Duration], probes: Int, opened: Duration?)>(([], 0, nil))

    init(_ inner: any HTTPTransport, clock: any ResilienceClock, stormStart: Duration, stormEnd: Duration) {
        self.inner = inner
        self.clock = clock
        self.stormStart = stormStart
        self.stormEnd = stormEnd
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let at = clock.now.sinceOrigin
        let response = try await inner.send(request)
        let collections = request.url.path.contains("/composite/sobjects/")
        seen.withLock { seen in
            // A probe: a request the storm met after the breaker first opened.
            if let opened = seen.opened, at >= opened, at < stormEnd, request.url.path.hasPrefix("/services/data") { seen.probes += 1 }
            if collections && response.status == 200 { seen.delivered.append(clock.now.sinceOrigin) }
        }
        return response
    }

    /// From the storm's end to the first batch delivered after it.
    var recovery: Duration? { seen.withLock { $0.delivered.first { $0 >= stormEnd } }.map { $0 - stormEnd } }
    /// Requests sent while the breaker was open or probing, before the storm ended.
    var probes: Int { seen.withLock { $0.probes } }
    /// Seconds of storm after the breaker first opened.
    var openStorm: Duration { seen.withLock { $0.opened.map { stormEnd - $0 } ?? .zero } }

    /// Events: the first opening of a breaker.
    var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in
            if case .breakerStateChanged(_, _, .open) = event {
                let now = clock.now.sinceOrigin
                seen.withLock { if $0.opened == nil { $0.opened = now } }
            }
        }
    }
}

nonisolated func benchmarkI() async throws {
    var recoveries: [Double] = []
    var probeGaps: [Double] = []
    var unrecovered = 0
    for seed in UInt64(1)...100 {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let length = Duration.seconds(30 + Int(RandomSource(seed: seed).next() % 271))
        let start = Duration.seconds(10)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: seed,
                                   faults: [.serviceUnavailable(from: start, for: length), .latency(.milliseconds(300))])
        let watch = RecoveryWatch(chaos, clock: clock, stormStart: start, stormEnd: start + length)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: watch,
                                          tokenProvider: org.clientCredentialsProvider(), events: watch.sink, clock: clock,
                                          random: RandomSource(seed: seed))
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue((1...2_000).map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                        enqueuedAt: clock.wallClockNow)
        })
        // One batch now and then before the storm, so that the storm meets a working outbox.
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(batchSize: 20), random: RandomSource(seed: seed))
        try await outbox.drain()
        guard let recovery = watch.recovery else { unrecovered += 1; continue }
        recoveries.append(Double(recovery.components.seconds) + Double(recovery.components.attoseconds) / 1e18)
        probeGaps.append(Double(watch.openStorm.components.seconds) / Double(max(1, watch.probes)))
    }
    recoveries.sort()
    let median = recoveries.isEmpty ? -1 : recoveries[recoveries.count / 2]
    Report.say(String(format: "(i) recovery after a 503 storm without Retry-After, 100 seeds (storms of 30–300 s): first delivered batch %.1f s median, %.1f s worst after the org is healthy; once the breaker opened, at most one probe per %.1f s of storm (the seed that probed most)%@",
                 median, recoveries.last ?? -1, probeGaps.min() ?? -1, unrecovered > 0 ? ", \(unrecovered) seeds never recovered" : ""))
    let note = unrecovered > 0 ? "\(unrecovered) of 100 seeds never recovered" : "100 seeds, virtual time, storms of 30–300 s without Retry-After"
    Report.figure("recovery_median_s", recoveries.isEmpty ? nil : median, unit: "s", target: .atMost(5), note: note)
    Report.figure("recovery_worst_s", unrecovered > 0 ? nil : recoveries.last, unit: "s", target: .atMost(10), note: note)
}
