import Foundation
import Logging
import PaymentServiceKit
import PaymentServiceSimulator
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
#if canImport(Glibc)
import Glibc
#endif

// The `events` command's whole loop in this process: PaymentServiceApp reading the embedded
// event bus over loopback gRPC and writing results to an org simulator over loopback HTTP (no
// incident), through the file journal and the file replay store.
//   swift run -c release EventsBenchmarks [requests, default 10000] [--json]
// 1. `requests` published within a second: seconds until every result is delivered, requests a
//    second, API calls.
// 2. 200 requests worked, then 20 s with nothing to deliver: the process's CPU per second of
//    wall time (service, org and bus together), the runbook's "a subscribed idle service costs
//    nothing" figure.

let arguments = CommandLine.arguments.dropFirst()
let json = arguments.contains("--json")
let requests = arguments.compactMap(Int.init).first ?? 10_000

func report(_ name: String, _ value: Double, _ unit: String, _ detail: String) {
    if json {
        let line: [String: JSONValue] = ["figure": .string(name), "value": .number(value), "unit": .string(unit), "detail": .string(detail)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self))
    } else {
        print("\(name): \(String(format: value < 1 ? "%.5f" : "%.1f", value)) \(unit)  (\(detail))")
    }
}

func cpuSeconds() -> Double {
    var usage = rusage()
    #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// The app on a fresh journal and replay file, with an org that has no incident.
func app(requests: Int, exitWhenDone: Bool, directory: URL) -> PaymentServiceApp {
    var options = ServiceOptions()
    options.count = requests
    options.rate = requests
    options.journal = directory.appendingPathComponent("journal").path
    options.exitWhenDone = exitWhenDone
    var events = EventOptions()
    events.replayFile = directory.appendingPathComponent("replay").path
    options.events = events
    var logger = Logger(label: "events-benchmark")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG"] == nil ? .warning : .debug
    let org: EmbeddedOrgFactory = { seed in try ServedSimulator(stormFrom: .zero, stormFor: .zero, lostAnswers: 0, seed: seed) }
    return PaymentServiceApp(options: options, environment: [:], embeddedOrg: org, embeddedBus: ServedEventBus.embedded, logger: logger)
}

func scratch() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-benchmark-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

// 1. Throughput.
let throughputDirectory = try scratch()
let summary = try await app(requests: requests, exitWhenDone: true, directory: throughputDirectory).runEvents()
try? FileManager.default.removeItem(at: throughputDirectory)
guard summary.resultsInOrg == requests, summary.duplicates == 0 else {
    fatalError("the loop lost or duplicated results: \(summary.json)")
}
report("events_loop_s", summary.elapsedSeconds, "s", "\(requests) requests in, one result each out; \(summary.apiCalls) API calls")
report("events_loop_per_s", Double(requests) / summary.elapsedSeconds, "requests/s", "fsync per result enqueued, 100 events per fetch")

// 2. Idle.
let idleDirectory = try scratch()
let idle = app(requests: 200, exitWhenDone: false, directory: idleDirectory)
let running = Task { try await idle.runEvents() }
let last = InMemoryPubSub.replayID(199)
// A store of its own per look: a FileReplayStore reads its file once, when first asked.
while try await FileReplayStore(path: idleDirectory.appendingPathComponent("replay").path).checkpoint(for: EventOptions().topic)?.replayID != last {
    try await Task.sleep(for: .milliseconds(100))
}
try await Task.sleep(for: .seconds(2))
let cpuBefore = cpuSeconds()
let started = ContinuousClock.now
try await Task.sleep(for: .seconds(20))
let elapsed = ContinuousClock.now - started
let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let share = (cpuSeconds() - cpuBefore) / wall
await idle.shutDown()
_ = try await running.value
try? FileManager.default.removeItem(at: idleDirectory)
report("events_idle_cpu_share", share, "of a core", "subscribed, nothing to deliver, \(Int(wall.rounded())) s; target 0.01")
