import Foundation
import SalesforceResilience

/// The runbook's worst afternoon over real HTTP, for any transport: payments posted one every
/// 10 s through a five-minute 503 storm (t = 30 s … 330 s, with `Retry-After: 10` on even seeds),
/// 5 % of committed writes answered by a connection closed without a byte, and every session
/// expired at t = 180 s. The simulator is served by ``LoopbackHTTPServer`` with keep-alive; the
/// storm's minutes pass on a virtual clock, the bytes are real.
///
/// ```swift
/// let report = try await WireStormDrill.run(seed: 3) { MyTransport(timeout: .seconds(10)) }
/// #expect(report.landedOnce == report.payments && report.duplicates.isEmpty && report.incompleteRequests == 0)
/// ```
public enum WireStormDrill {
    /// The most requests a client should send into the drill's five-minute storm: one probe per
    /// 8 s break is 38, plus the few failures that open the breaker. Without a breaker and a
    /// retry budget, 40 payments × 5 attempts send about 150.
    public static let stormRequestBound = 45

    /// What happened, measured at the server and in the org.
    public struct Report: Sendable, CustomStringConvertible {
        /// The seed the run replays from.
        public var seed: UInt64
        /// Payments posted.
        public var payments: Int
        /// Payments the org holds exactly once.
        public var landedOnce = 0
        /// Payments the org does not hold.
        public var missing: [String] = []
        /// Payments the org holds more than once, with their counts.
        public var duplicates: [String: Int] = [:]
        /// Requests answered 503 during the storm.
        public var stormRequests = 0
        /// Answers the server dropped after committing the write.
        public var lostAnswers = 0
        /// Requests that reached the server without their whole body.
        public var incompleteRequests = 0
        /// Payments whose poster gave up.
        public var hung: [String] = []

        /// What went wrong, in words: a payment not landed exactly once, a poster that gave up,
        /// a request without its whole body, more storm requests than ``WireStormDrill/stormRequestBound``.
        /// Empty when the transport passed.
        public var problems: [String] {
            var found: [String] = []
            if landedOnce != payments { found.append("seed \(seed): \(landedOnce) of \(payments) landed once, missing \(missing)") }
            if !duplicates.isEmpty { found.append("seed \(seed): duplicates \(duplicates)") }
            if !hung.isEmpty { found.append("seed \(seed): posters gave up on \(hung)") }
            if incompleteRequests > 0 { found.append("seed \(seed): \(incompleteRequests) requests arrived without their whole body") }
            if stormRequests > WireStormDrill.stormRequestBound {
                found.append("seed \(seed): \(stormRequests) storm requests, more than \(WireStormDrill.stormRequestBound)")
            }
            return found
        }

        /// One line with every figure.
        public var description: String {
            "seed \(seed): landed \(landedOnce)/\(payments), missing \(missing), duplicates \(duplicates), storm requests \(stormRequests), "
                + "lost answers \(lostAnswers), incomplete requests \(incompleteRequests), hung \(hung)"
        }
    }

    /// Runs the drill for each of `seeds`, one after another; check every report's
    /// ``Report/problems``, and that some answers were lost (or the drill proved nothing).
    public static func run(seeds: ClosedRange<UInt64>, payments: Int = 40, transport make: @escaping @Sendable () -> any HTTPTransport) async throws -> [Report] {
        var reports: [Report] = []
        for seed in seeds { reports.append(try await run(seed: seed, payments: payments, transport: make)) }
        return reports
    }

    /// Runs the drill once through the transport `make` builds (once for the token endpoint and
    /// the data calls alike).
    public static func run(seed: UInt64, payments: Int = 40, transport make: @Sendable () -> any HTTPTransport) async throws -> Report {
        let clock = VirtualClock(mode: .autoAdvance)
        let schedule = ChaosSchedule(faults: [
            .serviceUnavailable(from: .seconds(30), for: .seconds(300), retryAfter: seed.isMultiple(of: 2) ? "10" : nil, html: seed % 3 == 0),
            .lostResponses(probability: 0.05),
        ], seed: seed, clock: clock)
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer(chaos: schedule) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
            served = org
            return org
        }
        defer { server.stop() }
        guard let org = served else { throw TransportError.notSent(.other, "the drill's server did not start") }
        org.expireSessions(at: .origin + .seconds(180))
        let transport = make()
        let provider = OAuthTokenProvider(
            loginURL: server.baseURL, grant: .clientCredentials(clientID: "drill", clientSecret: "secret"), transport: transport,
            clock: clock, allowHTTPLoopback: true)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: server.baseURL, allowHTTPLoopback: true), transport: transport,
            tokenProvider: provider, clock: clock, random: RandomSource(seed: seed))
        var report = Report(seed: seed, payments: payments)
        let references = (1...payments).map { String(format: "PAY-%06d", $0) }
        for (n, reference) in references.enumerated() {
            try await clock.sleep(until: .origin + .seconds(Int64(10 * n)))
            if try await !postUntilLanded(reference, client: client, clock: clock) { report.hung.append(reference) }
        }
        let counts = org.countsByValue(of: "Payment__c", field: "Reference__c")
        report.landedOnce = references.filter { counts[$0] == 1 }.count
        report.missing = references.filter { counts[$0] == nil }
        report.duplicates = counts.filter { $0.value > 1 }
        report.stormRequests = schedule.statistics["status 503"] ?? 0
        report.lostAnswers = schedule.statistics["lost response"] ?? 0
        report.incompleteRequests = server.exchanges.filter { !$0.complete }.count
        return report
    }

    /// What a careful caller does: upsert (idempotent), and after a failure wait — until the
    /// breaker's next probe if it is open, else 5 s — and try again. Gives up after 500 tries.
    static func postUntilLanded(_ reference: String, client: SalesforceClient, clock: VirtualClock) async throws -> Bool {
        for _ in 0..<500 {
            do {
                _ = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: reference, fields: ["Amount__c": 100.0],
                                            priority: .critical)
                return true
            } catch let error as CircuitOpenError {
                let wait = error.retryAt.map { max(.milliseconds(100), $0 - clock.now) } ?? .seconds(5)
                try await clock.sleep(until: clock.now + wait)
            } catch {
                try await clock.sleep(until: clock.now + .seconds(5))
            }
        }
        return false
    }
}
