import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real-time scenario over real HTTP: the simulator served by `LoopbackHTTPServer` with a
/// fault schedule on the wall clock, and the PaymentPoster executable in real-org mode as a
/// separate process, as a user would run it.
struct WireScenario {
    var name: String
    var payments: Int
    var rate: Int
    var faults: [ChaosFault]

    struct Outcome {
        var wall: Duration
        var cpuSeconds: Double
        var status: Int32
        var requestsSeen: Int
        var incomplete: Int
        var landedOnce: Int
        var duplicates: Int
        var summary: String
    }

    /// The PaymentPoster binary built beside this one (`swift build -c release` builds both).
    static var posterBinary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("PaymentPoster")
    }

    func run(seed: UInt64 = 40) throws -> Outcome {
        let clock = SystemClock()
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer(chaos: ChaosSchedule(faults: faults, seed: seed, clock: clock, origin: clock.now)) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
            served = org
            return org
        }
        defer { server.stop() }
        let org = served!
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("wire-\(UUID().uuidString).journal").path
        let process = Process()
        process.executableURL = Self.posterBinary
        process.arguments = ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--journal", journal,
                             "--count", "\(payments)", "--rate", "\(rate)", "--quiet"]
        process.environment = ["SF_CLIENT_ID": "poster", "SF_CLIENT_SECRET": "secret", "PATH": "/usr/bin:/bin"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let cpuBefore = cpuSeconds(children: true)
        let started = ContinuousClock.now
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let wall = ContinuousClock.now - started
        let counts = org.countsByValue(of: "Payment__c", field: "Reference__c")
        if ProcessInfo.processInfo.environment["WIRE_TIMELINE"] != nil {
            for exchange in server.exchanges {
                Report.say(String(format: "    %6.2f s  %@ %@  %@", exchange.receivedAt.secondsValue, exchange.method,
                                  String(exchange.path.prefix(60)), exchange.fault ?? "served"))
            }
        }
        return Outcome(
            wall: wall, cpuSeconds: cpuSeconds(children: true) - cpuBefore, status: process.terminationStatus,
            requestsSeen: server.exchanges.count, incomplete: server.exchanges.filter { !$0.complete }.count,
            landedOnce: counts.values.filter { $0 == 1 }.count, duplicates: counts.values.filter { $0 > 1 }.count,
            summary: text.split(separator: "\n").last.map(String.init) ?? "")
    }

    /// The performance issue's scenarios: S40 without `Retry-After` and with the issue's
    /// `Retry-After: 5`, and a 429 burst.
    static let all: [WireScenario] = [
        WireScenario(name: "S40, no Retry-After", payments: 200, rate: 20,
                     faults: [.serviceUnavailable(from: .seconds(2), for: .seconds(40)), .lostResponses(probability: 0.05)]),
        WireScenario(name: "S40, Retry-After: 5", payments: 200, rate: 20,
                     faults: [.serviceUnavailable(from: .seconds(2), for: .seconds(40), retryAfter: "5"), .lostResponses(probability: 0.05)]),
        WireScenario(name: "1,000 at 50/s, 20 % 429", payments: 1_000, rate: 50,
                     faults: [.throttled(from: .zero, for: .seconds(3_600), probability: 0.2, retryAfter: "1",
                                         errorCode: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests")]),
    ]
}

// (g) The real-wire scenarios, in real time (about two minutes).
nonisolated func benchmarkG() async throws {
    guard FileManager.default.isExecutableFile(atPath: WireScenario.posterBinary.path) else {
        Report.say("(g) skipped: build PaymentPoster first (swift build -c release)")
        Report.figure("s40_wire_s", nil, unit: "s", target: .atMost(45), note: "skipped: PaymentPoster is not built beside the benchmark")
        Report.figure("s40_wire_requests", nil, unit: "requests", target: .atMost(10), note: "skipped: PaymentPoster is not built beside the benchmark")
        return
    }
    var s40: [(seconds: Double, requests: Int, allOnce: Bool)] = []
    for scenario in WireScenario.all {
        let outcome = try scenario.run()
        if scenario.name.hasPrefix("S40") {
            s40.append((outcome.wall.secondsValue, outcome.requestsSeen, outcome.landedOnce == scenario.payments && outcome.duplicates == 0))
        }
        Report.say(String(format: "(g) %@: %d payments, landed once %d, duplicates %d, exit %d; %.1f s wall, %.2f s CPU; %d requests reached the server (%d without their body)",
                     scenario.name, scenario.payments, outcome.landedOnce, outcome.duplicates, outcome.status, outcome.wall.secondsValue,
                     outcome.cpuSeconds, outcome.requestsSeen, outcome.incomplete))
        Report.say("    summary: \(outcome.summary)")
    }
    // The worse of the two S40 runs (with and without Retry-After); requests include the token's.
    let allOnce = s40.allSatisfy(\.allOnce)
    let note = allOnce ? "worse of the runs with and without Retry-After, real time" : "a run did not land every payment exactly once"
    Report.figure("s40_wire_s", allOnce ? s40.map(\.seconds).max() : nil, unit: "s", target: .atMost(45), note: note)
    Report.figure("s40_wire_requests", allOnce ? s40.map { Double($0.requests) }.max() : nil, unit: "requests", target: .atMost(10), note: note)
}
