import Foundation
import PaymentServiceKit
import SalesforceResilience
import SalesforceResilienceTesting
import UnixSignals

/// A Salesforce simulator over loopback HTTP with an incident in real time: the org of the
/// `PaymentService simulator` command, which several services (a fleet drill) post to, and the
/// service's embedded org when it has no `--instance-url`.
public final class ServedSimulator: EmbeddedOrg {
    /// The org.
    public let org: SalesforceSimulator
    private let server: LoopbackHTTPServer
    private let seed: UInt64

    /// Where it listens.
    public var url: URL { server.baseURL }

    /// Serves a simulator on `port` (0: any free port) with a 503 storm from `stormFrom` for
    /// `stormFor`, `lostAnswers` of committed writes answered by a closed connection, and
    /// `latency` on every call.
    /// `serverErrors` of the answers are proxy errors.
    public init(port: Int = 0, stormFrom: Duration, stormFor: Duration, lostAnswers: Double, serverErrors: Double = 0, seed: UInt64,
                latency: Duration = .zero) throws {
        let clock = SystemClock()
        var faults: [ChaosFault] = []
        if stormFor > .zero { faults.append(.serviceUnavailable(from: stormFrom, for: stormFor)) }
        if lostAnswers > 0 { faults.append(.lostResponses(probability: lostAnswers)) }
        if serverErrors > 0 { faults.append(.randomServerErrors(probability: serverErrors)) }
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
        self.seed = seed
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

    /// The service's embedded org: the runbook's incident in real time, a 503 storm from 10 s to
    /// 30 s, 5 % of committed writes answered by a closed connection, 1 % proxy errors.
    public static let embedded: EmbeddedOrgFactory = { seed in
        try ServedSimulator(stormFrom: .seconds(10), stormFor: .seconds(20), lostAnswers: 0.05, serverErrors: 0.01, seed: seed)
    }

    /// What it is and which incident it plays, for the service's start-up line.
    public var summaryDescription: String {
        "an embedded simulator at \(url.absoluteString) (seed \(seed): 503 storm from 10 s to 30 s, 5 % lost answers)"
    }

    /// How many records of `sobject` hold each value of `field`.
    public func countsByValue(of sobject: String, field: String) -> [String: Int] {
        org.countsByValue(of: sobject, field: field)
    }

    /// Stops serving.
    public func stop() { server.stop() }

    /// Serves until SIGTERM or SIGINT; then stops and returns ``summary(sobject:field:)``.
    public func runUntilSignalled() async -> String {
        for await _ in await UnixSignalsSequence(trapping: [.sigterm, .sigint]) { break }
        server.stop()
        return summary()
    }
}
