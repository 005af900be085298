import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import UnixSignals

/// The `PaymentService simulator` command: one Salesforce simulator over loopback HTTP, with an
/// incident in real time, that several services (a fleet drill) post to.
public final class ServedSimulator: Sendable {
    /// The org.
    public let org: SalesforceSimulator
    private let server: LoopbackHTTPServer

    /// Where it listens.
    public var url: URL { server.baseURL }

    /// Serves a simulator on `port` (0: any free port) with a 503 storm from `stormFrom` for
    /// `stormFor`, `lostAnswers` of committed writes answered by a closed connection, and
    /// `latency` on every call.
    public init(port: Int = 0, stormFrom: Duration, stormFor: Duration, lostAnswers: Double, seed: UInt64, latency: Duration = .zero) throws {
        let clock = SystemClock()
        var faults: [ChaosFault] = []
        if stormFor > .zero { faults.append(.serviceUnavailable(from: stormFrom, for: stormFor)) }
        if lostAnswers > 0 { faults.append(.lostResponses(probability: lostAnswers)) }
        if latency > .zero { faults.append(.latency(latency)) }
        let schedule = ChaosSchedule(faults: faults, seed: seed, clock: clock, origin: clock.now)
        var served: SalesforceSimulator?
        server = try LoopbackHTTPServer(chaos: schedule, options: .init(port: UInt16(clamping: port))) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
            served = org
            return org
        }
        guard let served else { throw CancellationError() }
        org = served
    }

    /// What the org holds: payments (by `Reference__c`) once and more than once, and the token
    /// requests it answered, as one JSON line.
    public func summary(sobject: String = "Payment__c", field: String = "Reference__c") -> String {
        let counts = org.countsByValue(of: sobject, field: field)
        let line: [String: Int] = [
            "records": counts.count, "duplicated": counts.values.filter { $0 > 1 }.count, "tokenRequests": org.tokenRequests,
            "requests": server.exchanges.count,
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(line), as: UTF8.self)) ?? "{}"
    }

    /// Serves until SIGTERM or SIGINT; then stops and returns ``summary(sobject:field:)``.
    public func runUntilSignalled() async -> String {
        for await _ in await UnixSignalsSequence(trapping: [.sigterm, .sigint]) { break }
        server.stop()
        return summary()
    }
}
