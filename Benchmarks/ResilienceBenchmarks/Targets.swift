import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The figures the performance issue names that no older benchmark measured: a 100,000-record
// backlog, trickling arrivals against a small API limit, concurrent durable enqueues, and what
// the root's Linux transport spends while a request waits.

/// A payment as the benchmarks queue it.
func benchmarkPayment(_ n: Int, at date: Date) -> OutboxEntry {
    OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: String(format: "PAY-%06d", n),
                fields: ["Amount__c": .number(Double(n)), "Customer__c": .string("CUST-\(n % 97)")], enqueuedAt: date)
}

/// Data API calls the simulated org answered (the token endpoint not counted).
func dataCalls(_ org: SalesforceSimulator) -> Int {
    org.calls.filter { !$0.key.contains("token") }.values.reduce(0, +)
}

// (k) 100,000 queued payments, every call answered in 300 ms, drained 10 batches at once (the
// client's default 10 collections slots): by collections only, then with the Bulk API hand-off
// at its defaults (jobs of up to 50,000 records, from 10,000 pending). Real time, since
// concurrent sleeps on a virtual clock do not overlap the way real ones do. The simulator
// processes a Bulk job in 5 s whatever its size, so the Bulk figure is the outbox's own cost
// (calls, polling, result files), not Salesforce's Bulk throughput.
nonisolated func benchmarkK() async throws {
    func drainBacklog(bulk: BulkHandOff?) async throws -> (took: Double, landed: Int, calls: Int, jobs: Int, collections: Int) {
        let clock = SystemClock()
        let org = SalesforceSimulator(options: SimulatorOptions(dailyAPILimit: 10_000_000, bulkProcessingTime: .seconds(5)), clock: clock)
        let slow = ChaosTransport(wrapping: org, clock: clock, seed: 1, faults: [.latency(.milliseconds(300))])
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: slow,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue((1...100_000).map { benchmarkPayment($0, at: clock.wallClockNow) })
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(concurrentBatches: 10, bulkHandOff: bulk), random: RandomSource(seed: 1))
        let started = ContinuousClock.now
        try await outbox.drain()
        let took = (ContinuousClock.now - started).secondsValue
        return (took, org.records(of: "Payment__c").count, dataCalls(org), org.calls["POST bulk ingest"] ?? 0, org.calls["PATCH collections"] ?? 0)
    }
    let collections = try await drainBacklog(bulk: nil)
    Report.say(String(format: "(k) a backlog of 100,000 payments, 300 ms per call, 10 batches at once, collections only: %d landed in %.1f s (real time, CPU included), %d collections calls; one batch at a time would take %.0f s",
                      collections.landed, collections.took, collections.collections, Double(collections.collections) * 0.3))
    Report.figure("backlog_100k_collections_s", collections.landed == 100_000 ? collections.took : nil, unit: "s", target: .atMost(20),
                  note: "OutboxOptions(concurrentBatches: 10, bulkHandOff: nil), real time on this machine")
    Report.figure("backlog_100k_calls_collections", Double(collections.calls), unit: "calls")
    let bulk = try await drainBacklog(bulk: BulkHandOff())
    Report.say(String(format: "(k) the same backlog with the Bulk API hand-off (defaults; 5 s per job in the simulator): %d landed in %.1f s, %d data API calls: %d Bulk jobs, %d collections calls",
                      bulk.landed, bulk.took, bulk.calls, bulk.jobs, bulk.collections))
    Report.figure("backlog_100k_bulk_s", bulk.landed == 100_000 ? bulk.took : nil, unit: "s",
                  note: "BulkHandOff() defaults, concurrentBatches: 10; the simulator processes a job in 5 s, real time")
    Report.figure("backlog_100k_calls_bulk", Double(bulk.calls), unit: "calls", note: "every data API call: jobs, uploads, polls, result files")
}

// (l) 300 payments arriving 2 per second at an org whose API limit is 100 calls; virtual time.
// One task plays the arrivals and a drainer that follows `Outbox.wait(after:)`, in 50 ms steps.
nonisolated func benchmarkL() async throws {
    let clock = VirtualClock(mode: .autoAdvance)
    let org = SalesforceSimulator(options: SimulatorOptions(dailyAPILimit: 100), clock: clock)
    let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                      tokenProvider: org.clientCredentialsProvider(), clock: clock)
    let store = InMemoryOutboxStore(clock: clock)
    let outbox = Outbox(store: store, client: client, random: RandomSource(seed: 1))
    let start = clock.now
    var arrived = 0
    var nextDrain = start
    var allLanded: Duration?
    var callsWhenLanded = 0
    while clock.now - start < .seconds(3_600) {
        while arrived < 300, clock.now >= start + .milliseconds(500 * arrived) {
            arrived += 1
            await store.enqueue([benchmarkPayment(arrived, at: clock.wallClockNow)])
        }
        if clock.now >= nextDrain {
            let step = try await outbox.drainOnce()
            nextDrain = clock.now + (await outbox.wait(after: step))
        }
        if arrived == 300, org.records(of: "Payment__c").count == 300 {
            allLanded = clock.now - start
            callsWhenLanded = dataCalls(org)
            break
        }
        await clock.advance(by: .milliseconds(50))
    }
    let landed = org.records(of: "Payment__c").count
    Report.say(String(format: "(l) 300 payments arriving 2/s, API limit 100 calls: %d landed, %d data API calls%@",
                      landed, dataCalls(org), allLanded.map { String(format: ", the last %.0f s after the first arrived", $0.secondsValue) } ?? " (not all within an hour)"))
    Report.figure("trickle_calls", allLanded == nil ? nil : Double(callsWhenLanded), unit: "calls", target: .atMost(40),
                  note: allLanded == nil ? "not every payment landed within an hour of virtual time (\(landed) of 300)" : "data API calls until all 300 landed")
}

// (m) 16 producers enqueueing one payment at a time into the file journal: durable enqueues/s.
nonisolated func benchmarkM() async throws {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-commit-\(UUID().uuidString).journal").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try FileJournalOutboxStore(path: path)
    let perProducer = 100
    let now = Date()
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for producer in 0..<16 {
            group.addTask {
                for n in 0..<perProducer { try await store.enqueue([benchmarkPayment(producer * perProducer + n, at: now)]) }
            }
        }
        try await group.waitForAll()
    }
    let seconds = (ContinuousClock.now - started).secondsValue
    let rate = Double(16 * perProducer) / seconds
    Report.say(String(format: "(m) 16 producers × %d single enqueues into the file journal, each durable when it returns: %.0f enqueues/s (%.2f s)",
                      perProducer, rate, seconds))
    Report.figure("journal_group_commit_per_s", rate, unit: "enqueues/s", target: .atLeast(5_000),
                  note: "each call durable when it returns; concurrent calls share fsyncs (group commit)")
}

// (n) CPU a transport spends while a request waits: 4 calls to a loopback server that answers
// after 1.5 s, one at a time, on a new connection each; the library's default transport on this
// platform (CurlTransport on Linux), then URLSessionTransport for comparison.
nonisolated func benchmarkN() async throws {
    let clock = SystemClock()
    let server = try LoopbackHTTPServer(chaos: ChaosSchedule(faults: [.latency(.milliseconds(1_500))], seed: 1, clock: clock, origin: clock.now)) { url in
        SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
    }
    defer { server.stop() }
    let url = server.baseURL.appendingPathComponent("services/data/v62.0/limits")
    func cpuPerWait(_ transport: any HTTPTransport) async -> (perWait: Double, wall: Double) {
        _ = try? await transport.send(HTTPRequest(method: .get, url: url))  // warm up the machinery
        let cpuBefore = cpuSeconds()
        let started = ContinuousClock.now
        for _ in 0..<4 { _ = try? await transport.send(HTTPRequest(method: .get, url: url)) }
        let wall = (ContinuousClock.now - started).secondsValue
        return ((cpuSeconds() - cpuBefore) / wall, wall)
    }
    let standard = StandardTransport.make()
    let name = String(describing: type(of: standard))
    let (perWait, wall) = await cpuPerWait(standard)
    Report.say(String(format: "(n) %@ (the default here) waiting on 4 answers of 1.5 s each: %.3f CPU seconds per second of waiting (%.1f s wall)",
                      name, perWait, wall))
    #if os(Linux)
    Report.figure("linux_transport_cpu_per_wait_s", perWait, unit: "CPU s per s waited", target: .atMost(0.05),
                  note: "the root's default Linux transport, \(name)")
    #endif
    let (urlSession, urlSessionWall) = await cpuPerWait(URLSessionTransport())
    Report.say(String(format: "(n) URLSessionTransport, the same 4 answers: %.2f CPU seconds per second of waiting (%.1f s wall)", urlSession, urlSessionWall))
    Report.figure("urlsession_cpu_per_wait_s", urlSession, unit: "CPU s per s waited")
}

/// User and system CPU seconds of this process, or of its finished children.
func cpuSeconds(children: Bool = false) -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(children ? RUSAGE_CHILDREN.rawValue : RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(children ? RUSAGE_CHILDREN : RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
