import AllocationCounter
import Foundation
import PaymentPosterKit
import SalesforceResilience
import SalesforceResilienceTesting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Prints the figures the project tracks. Numbers, not pass/fail:
//   swift run -c release ResilienceBenchmarks

/// A transport that answers at once with a fixed response: the floor to compare against.
struct InstantTransport: HTTPTransport {
    let response = HTTPResponse(status: 200, headers: ["Sforce-Limit-Info": "api-usage=1/100000"], body: Data(#"{"ok":true}"#.utf8))
    @inline(never)
    func send(_ request: HTTPRequest) async throws -> HTTPResponse { response }
    /// It answers at once, so within any timeout.
    var honoursRequestTimeout: Bool { true }
}

/// Hides the concrete type from the optimiser, as a real transport's would be.
@inline(never)
func makeInstantTransport() -> any HTTPTransport { InstantTransport() }

func peakRSSMegabytes() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    #else
    getrusage(RUSAGE_SELF, &usage)
    return Double(usage.ru_maxrss) / 1_048_576  // bytes on macOS
    #endif
}

/// Resident set size now, from /proc (Linux); the peak elsewhere.
func currentRSSMegabytes() -> Double {
    #if os(Linux)
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
       let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
       let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "") {
        return kilobytes / 1024
    }
    #endif
    return peakRSSMegabytes()
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func measure(_ iterations: Int, _ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    for _ in 0..<iterations { try await body() }
    let elapsed = ContinuousClock.now - start
    let (seconds, attoseconds) = elapsed.components
    return (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(iterations)
}

// (a) Pipeline overhead per request.
nonisolated func benchmarkA() async throws {
    // Both sides go through the `any HTTPTransport` existential and use the response, so the
    // optimiser cannot remove the bare call.
    let transport = makeInstantTransport()
    let client = try SalesforceClient(
        configuration: SalesforceConfiguration(instanceURL: URL(string: "https://bench.my.salesforce.com")!), transport: transport,
        tokenProvider: StaticTokenProvider(accessToken: "bench"))
    let request = HTTPRequest(method: .get, url: URL(string: "https://bench.my.salesforce.com/services/data/v62.0/limits")!)
    let context = RequestContext(operation: "bench", isIdempotent: true)
    _ = try await client.send(request, context: context)
    let iterations = 100_000
    var bare: [Double] = []
    var full: [Double] = []
    var checksum = 0
    for _ in 0..<5 {
        bare.append(try await measure(iterations) { checksum &+= try await transport.send(request).status })
        full.append(try await measure(iterations) { checksum &+= try await client.send(request, context: context).status })
    }
    let before = allocation_count()
    for _ in 0..<iterations { checksum &+= try await client.send(request, context: context).status }
    let after = allocation_count()
    let (b, f) = (median(bare), median(full))
    Report.say(String(format: "(a) pipeline cost per request: %.0f ns through Admission → Metrics → Deadline → Retry → Breaker → AdaptiveThrottle → Auth → LimitsObserver vs %.0f ns for the bare transport call (%.0f×, +%.2f µs); median of 5 × %d (checksum %d)",
                      f, b, f / b, (f - b) / 1000, iterations, checksum))
    Report.figure("chain_us", (f - b) / 1000, unit: "µs", target: .atMost(1), note: "chain cost over a transport answering at once, median of 5 × \(iterations)")
    Report.figure("chain_allocations", before < 0 ? nil : Double(after - before) / Double(iterations), unit: "allocations per request",
                  note: before < 0 ? "not counted on this platform or under a sanitizer" : "malloc, calloc and realloc calls, process-wide")
}

// (b) API calls for 10,000 upserts through sObject Collections.
nonisolated func benchmarkB() async throws {
do {
    let clock = VirtualClock(mode: .autoAdvance)
    let org = SalesforceSimulator(clock: clock)
    let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: org,
                                      tokenProvider: org.clientCredentialsProvider(), clock: clock)
    let records: [[String: JSONValue]] = (1...10_000).map { ["Reference__c": .string("PAY-\($0)"), "Amount__c": .number(Double($0))] }
    let start = ContinuousClock.now
    _ = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: records)
    let elapsed = ContinuousClock.now - start
    let calls = org.calls.values.reduce(0, +)
    Report.say("(b) 10,000 upserts through collections: \(org.calls["PATCH collections"] ?? 0) collections calls, \(calls) requests in all (token included), \(org.records(of: "Payment__c").count) records; \(elapsed) wall")
}
}

// (c) The five-minute storm scenario (PaymentPoster's default run).
nonisolated func benchmarkC() async throws {
do {
    var options = PosterOptions()
    options.progress = false
    var runs: [PosterSummary] = []
    for seed in [42, 7, 1_234] as [UInt64] {
        options.seed = seed
        runs.append(try await PaymentPoster.run(options, environment: [:], output: { _ in }))
    }
    for run in runs {
        Report.say(String(format: "(c) storm scenario: %d payments, landed %d, lost %d, duplicates %d, API calls %d, retries %d, breaker opens %d, drain after storm %.0f s, %.2f s wall",
                     run.payments, run.landed ?? -1, run.lost ?? -1, run.duplicates ?? -1, run.apiCalls, run.retries, run.breakerOpens, run.drainAfterStormSeconds ?? -1, run.elapsedSeconds))
    }
}
}

// (d) Token requests for 1,000 concurrent 401s.
nonisolated func benchmarkD() async throws {
    // A manual clock holds all 1,000 requests in 50 ms of latency, so every one of them reaches
    // the org with the expired token.
    let clock = VirtualClock(mode: .manual)
    let org = SalesforceSimulator(clock: clock)
    let slow = ChaosTransport(wrapping: org, clock: clock, seed: 1, faults: [ChaosFault(.latency(.milliseconds(50)), scope: .dataAPI)])
    let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: slow,
                                      tokenProvider: org.clientCredentialsProvider(), clock: clock)
    _ = try await client.tokens.token()
    org.expireSessions()
    let before = org.tokensIssued
    let run = Task {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<1_000 { group.addTask { _ = try await client.limits() } }
            try await group.waitForAll()
        }
    }
    _ = await clock.waitForSleepers(1_000)
    await clock.advance(by: .milliseconds(50))   // all 1,000 get 401, one refresh, 1,000 replays start
    _ = await clock.waitForSleepers(1_000)
    await clock.advance(by: .milliseconds(50))   // the replays succeed
    try await run.value
    Report.say("(d) 1,000 concurrent requests holding an expired token: \(org.statuses[401] ?? 0) got 401, \(org.tokensIssued - before) token request, and all 1,000 then succeeded")
}

// (e) Peak memory with 100,000 payments queued in the outbox.
nonisolated func benchmarkE() async throws {
do {
    let before = currentRSSMegabytes()
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).journal").path
    var store: FileJournalOutboxStore? = try FileJournalOutboxStore(path: path)
    let now = Date()
    let start = ContinuousClock.now
    for batch in stride(from: 1, through: 100_000, by: 1_000) {
        try await store?.enqueue((batch..<(batch + 1_000)).map {
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: String(format: "PAY-%06d", $0),
                        fields: ["Amount__c": .number(Double($0)), "Customer__c": .string("CUST-\($0 % 97)")], enqueuedAt: now)
        })
    }
    let enqueueTime = ContinuousClock.now - start
    let afterEnqueue = currentRSSMegabytes()
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    // One writer per journal: the first store goes before the second opens it.
    store = nil
    let reopenStart = ContinuousClock.now
    let reopened = try FileJournalOutboxStore(path: path)
    let count = await reopened.backlog().count
    let reopenTime = ContinuousClock.now - reopenStart
    let afterReplay = currentRSSMegabytes()
    Report.say(String(format: "(e) 100,000 payments queued in the file journal (%.1f MB): RSS %.0f MB empty, %.0f MB with the queue (+%.0f MB), %.0f MB after closing it and replaying the journal in a new store; peak %.0f MB",
                 Double(size) / 1_048_576, before, afterEnqueue, afterEnqueue - before, afterReplay, peakRSSMegabytes())
          + "; enqueue \(enqueueTime) in 100 fsync'd batches, replay \(reopenTime) (\(count) pending)")
    // The fields' own bytes: the strings' UTF-8 and 8 bytes per number, keys included.
    let texts = ["Payment__c", "Reference__c", "PAY-000001", "Amount__c", "Customer__c", "CUST-48"]
    let fieldBytes = Double(texts.map(\.utf8.count).reduce(8, +))
    let perRecord = (afterEnqueue - before) * 1_048_576 / 100_000 - fieldBytes
    Report.figure("journal_bytes_per_record", perRecord, unit: "bytes", target: .atMost(250),
                  note: String(format: "resident memory per queued record beyond its fields' %.0f bytes (RSS, noisy)", fieldBytes))
    Report.figure("journal_replay_100k_s", reopenTime.secondsValue, unit: "s", target: .atMost(0.3))
    try? FileManager.default.removeItem(atPath: path)
}
}

// (f) Result caches: storing and serving a 2,000-record query result, and opening a cache
// directory that holds 1,000 entries.
nonisolated func benchmarkF() async throws {
    let records = (0..<2_000).map { ["Id": "a01\(String(format: "%015d", $0))", "Name": "Customer \($0)", "Amount__c": "\($0).50"] }
    let data = try JSONEncoder().encode(records)
    let result = CachedResult(data: data, storedAt: Date())
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bench-cache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    let memory = InMemoryResultCache()
    let file = try FileResultCache(directory: directory)
    var served = 0
    func time(_ cache: any ResultCache) async throws -> (store: Double, serve: Double) {
        var stores: [Double] = [], serves: [Double] = []
        for _ in 0..<5 {
            stores.append(await measure(20) { await cache.store(result, for: "SELECT Id, Name, Amount__c FROM Account") })
            serves.append(await measure(20) { served += await cache.value(for: "SELECT Id, Name, Amount__c FROM Account")?.data.count ?? 0 })
        }
        return (median(stores), median(serves))
    }
    let inMemory = try await time(memory)
    let onDisk = try await time(file)
    for n in 0..<1_000 { await file.store(CachedResult(data: Data("[]".utf8), storedAt: Date()), for: "SELECT Id FROM Account LIMIT \(n)") }
    let openStart = ContinuousClock.now
    let reopened = try FileResultCache(directory: directory)
    let openTime = ContinuousClock.now - openStart
    Report.say(String(format: "(f) result cache, a 2,000-record result (%.0f KB): in memory store %.1f µs, serve %.1f µs; file store %.0f µs, serve %.0f µs",
                 Double(data.count) / 1_024, inMemory.store / 1_000, inMemory.serve / 1_000, onDisk.store / 1_000, onDisk.serve / 1_000)
          + "; opening a directory of \(await reopened.count) entries \(openTime) (checksum \(served))")
}

// (h) What a failed response costs to classify: the typed error, its redaction, an HTML page's
// title. A storm answers every call with one of these.
nonisolated func benchmarkH() async throws {
    let classifier = OutcomeClassifier()
    let bodies: [(String, HTTPResponse)] = [
        ("Salesforce JSON error", .salesforceError(503, code: "SERVER_UNAVAILABLE", message: "Server is unavailable, please retry")),
        ("edge proxy HTML page", .html(502, title: "502 Bad Gateway")),
        ("hostile page: 8 KB of '<title'", HTTPResponse(status: 502, headers: ["Content-Type": "text/html"], body: Data(String(repeating: "<title", count: 1_365).utf8))),
        ("error echoing a session id", .salesforceError(400, code: "INVALID_FIELD", message: "bad 00D5g000004DBTq!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6LYUfiDUkWe6H34r1AAwOR8B8fLE")),
    ]
    var sink = 0
    for (name, response) in bodies {
        let perCall = median(await (0..<5).asyncMap { _ in
            await measure(2_000) { sink &+= classifier.error(for: response, operation: "bench")?.message.count ?? 0 }
        })
        Report.say(String(format: "(h) classifying a failed response, %@: %.1f µs", name, perCall / 1_000))
    }
    _ = sink
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

// `ResilienceBenchmarks a c` runs only (a) and (c); no arguments runs them all but the real-time
// ones (g, j). `--json` prints the named figures as JSON lines and runs every benchmark, real-time
// ones included, unless some are named.
let arguments = CommandLine.arguments.dropFirst().map { $0.lowercased() }
jsonOutput = arguments.contains("--json")
let chosen = Set(arguments.filter { $0 != "--json" })
Report.say("ResilienceBenchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, release build expected")
func wanted(_ name: String) -> Bool { chosen.isEmpty || chosen.contains(name) }
// Memory first, so that its baseline is the empty process.
if wanted("e") { try await benchmarkE() }
if wanted("a") { try await benchmarkA() }
if wanted("b") { try await benchmarkB() }
if wanted("c") { try await benchmarkC() }
if wanted("d") { try await benchmarkD() }
if wanted("f") { try await benchmarkF() }
if wanted("h") { try await benchmarkH() }
if wanted("i") { try await benchmarkI() }
if wanted("k") { try await benchmarkK() }
if wanted("l") { try await benchmarkL() }
if wanted("m") { try await benchmarkM() }
if wanted("n") { try await benchmarkN() }
#if PubSubGRPC
// Real time, 20 seconds, with `--traits PubSubGRPC`: only when asked for (or under --json).
if chosen.contains("o") || (jsonOutput && chosen.isEmpty) { try await benchmarkO() }
#endif
// Real time, about two minutes: only when asked for (or under --json).
if chosen.contains("g") || (jsonOutput && chosen.isEmpty) { try await benchmarkG() }
// Real time, 40 seconds: only when asked for (or under --json).
if chosen.contains("j") || (jsonOutput && chosen.isEmpty) { try await benchmarkJ() }
