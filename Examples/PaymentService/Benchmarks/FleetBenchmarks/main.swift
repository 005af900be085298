import Foundation
import Logging
import PostgresNIO
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResiliencePostgres
import SalesforceResilienceTesting

// The PostgreSQL outbox at work: claims per second of the store alone, and records per second
// drained by 1, 2 and 4 drainers sharing one outbox, against the simulator served over loopback
// HTTP with 200 ms per call, through the AsyncHTTPClient transport, with the API calls it took.
//   swift run -c release FleetBenchmarks [records, default 10000] [--json]
// PostgreSQL: PAYMENTSERVICE_POSTGRES_URL, or a throwaway cluster started with
// scripts/postgres-sandbox.sh for the run.

let arguments = CommandLine.arguments.dropFirst()
let json = arguments.contains("--json")
let records = arguments.compactMap(Int.init).first ?? 10_000

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func report(_ name: String, _ value: Double, _ unit: String, _ detail: String) {
    if json {
        let line: [String: JSONValue] = ["figure": .string(name), "value": .number(value), "unit": .string(unit), "detail": .string(detail)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: (try? encoder.encode(line)) ?? Data(), as: UTF8.self))
    } else {
        print("\(name): \(String(format: "%.1f", value)) \(unit)  (\(detail))")
    }
}

/// The server: the environment's, or a sandbox for this run.
func postgresURL() async throws -> (url: String, stop: () -> Void) {
    if let url = ProcessInfo.processInfo.environment["PAYMENTSERVICE_POSTGRES_URL"], !url.isEmpty { return (url, {}) }
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/postgres-sandbox.sh")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleet-benchmarks-\(getpid())")
    let start = try ChildProcess(script, arguments: ["start", directory.path], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    guard await start.exitStatus() == 0 else { throw TransportError.ambiguous(.other, "PostgreSQL did not start: \(start.errorLines)") }
    let url = start.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
    return (url, {
        _ = try? ChildProcess(script, arguments: ["stop", directory.path], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    })
}

/// A schema of its own, its pool running, for one measurement.
func withDatabase<T: Sendable>(_ url: String, _ body: @Sendable (FleetDatabase) async throws -> T) async throws -> T {
    let schema = "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
    let database = try FleetDatabase(url: url, schema: schema)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await database.client.run(); return nil }
        defer { group.cancelAll() }
        try await database.migrate()
        let result = try await body(database)
        try await database.client.query("DROP SCHEMA \(unescaped: schema) CASCADE")
        return result
    }
}

func entries(_ count: Int) -> [OutboxEntry] {
    (1...count).map { n in
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: String(format: "PAY-%06d", n),
                    fields: ["Amount__c": .number(Double(n % 900) + 10.5)], enqueuedAt: Date())
    }
}

let all = entries(records)
let (url, stopServer) = try await postgresURL()
defer { stopServer() }

// 1. The store alone: claim 200, acknowledge them, until the queue is empty.
for claimers in [1, 4] {
    let (batches, took) = try await withDatabase(url) { database in
        let store = PostgresOutboxStore(database: database)
        for chunk in stride(from: 0, to: records, by: 1_000) { try await store.enqueue(Array(all[chunk..<min(records, chunk + 1_000)])) }
        let started = ContinuousClock.now
        let batches = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<claimers {
                group.addTask {
                    let worker = PostgresOutboxStore(database: database, worker: "bench-\(n)")
                    var claimed = 0
                    while true {
                        let batch = try await worker.claim(limit: 200, lease: .seconds(60), groupsTogether: false)
                        if batch.isEmpty { return claimed }
                        try await worker.acknowledge(batch.claims)
                        claimed += 1
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        return (batches, ContinuousClock.now - started)
    }
    report("claims per second, \(claimers) claimer\(claimers == 1 ? "" : "s")", Double(batches) / seconds(took), "claims/s",
           "\(batches) claims of up to 200 and their acknowledgements, \(records) entries in \(String(format: "%.2f", seconds(took))) s")
}

// 2. Draining against an org that takes 200 ms per call.
for workers in [1, 2, 4] {
    let clock = SystemClock()
    let schedule = ChaosSchedule(faults: [.latency(.milliseconds(200))], seed: 1, clock: clock, origin: clock.now)
    var served: SalesforceSimulator?
    let server = try LoopbackHTTPServer(chaos: schedule) { url in
        let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
        served = org
        return org
    }
    defer { server.stop() }
    let org = served!
    let transport = AsyncHTTPClientTransport(options: .init(attemptTimeout: .seconds(30)))
    let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: server.baseURL, allowHTTPLoopback: true),
                                      transport: transport, tokenProvider: org.clientCredentialsProvider(), clock: clock)
    let took = try await withDatabase(url) { database in
        let store = PostgresOutboxStore(database: database)
        for chunk in stride(from: 0, to: records, by: 1_000) { try await store.enqueue(Array(all[chunk..<min(records, chunk + 1_000)])) }
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                // A short idle interval: a drainer that finds the rest claimed checks back soon.
                group.addTask { try await Outbox(store: store, client: client, options: OutboxOptions(idleInterval: .milliseconds(50))).drain() }
            }
            try await group.waitForAll()
        }
        return ContinuousClock.now - started
    }
    try await transport.shutdown()
    let landed = org.countsByValue(of: "Payment__c", field: "Reference__c")
    let calls = server.exchanges.count
    report("records per second, \(workers) drainer\(workers == 1 ? "" : "s")", Double(landed.count) / seconds(took), "records/s",
           "\(landed.count) of \(records) landed once, \(calls) API calls + \(org.tokenRequests) token request, \(String(format: "%.1f", seconds(took))) s, 200 ms per call")
}
