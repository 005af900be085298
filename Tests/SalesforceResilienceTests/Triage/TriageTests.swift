import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct TriageTests {
    struct Row: Decodable, Sendable { var Id: String }

    let clock = VirtualClock(mode: .autoAdvance)

    func setUp(options: SimulatorOptions = SimulatorOptions(), faults: [ChaosFault] = [], provider: ((SalesforceSimulator) -> any TokenProvider)? = nil)
        throws -> (SalesforceSimulator, SalesforceClient) {
        let org = SalesforceSimulator(options: options, clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 2, faults: faults)
        let configuration = SalesforceConfiguration(
            instanceURL: org.options.instanceURL, retryPolicy: RetryPolicy(maxAttempts: 2),
            statusAPIBaseURL: URL(string: "https://status.sim.example/v1")!, instanceKey: "NA45")
        let client = try SalesforceClient(configuration: configuration, transport: chaos,
                                          tokenProvider: provider?(org) ?? org.clientCredentialsProvider(), clock: clock)
        return (org, client)
    }

    func action(_ report: TriageReport, _ check: String) -> TriageReport.Action? {
        report.findings.first { $0.check == check }?.action
    }

    @Test func aHealthyOrgNeedsNothing() async throws {
        let (_, client) = try setUp()
        let report = await client.triage()
        #expect(report.recommendation == TriageReport.Action.none)
        #expect(report.instanceStatus == "OK" && report.activeIncidents == 0)
        #expect(report.dailyAPIRequests?.max == 100_000)
        #expect(action(report, "auth") == TriageReport.Action.none)
    }

    @Test func anIncidentOnTheInstanceMeansFallbackMode() async throws {
        let (org, client) = try setUp()
        org.setInstanceStatus("MAJOR_INCIDENT_CORE", for: "NA45")
        org.addIncident(id: "12345", instanceKeys: ["NA45", "NA46"], message: "Performance degradation")
        org.addIncident(id: "99", instanceKeys: ["EU10"], message: "elsewhere")
        let report = await client.triage()
        #expect(report.instanceStatus == "MAJOR_INCIDENT_CORE")
        #expect(report.activeIncidents == 1)
        #expect(action(report, "status") == .enableFallbackMode && action(report, "incidents") == .enableFallbackMode)
        #expect(report.recommendation == .enableFallbackMode)
    }

    @Test func nearlyExhaustedLimitsMeanCriticalOnly() async throws {
        let (org, client) = try setUp(options: SimulatorOptions(dailyAPILimit: 1_000))
        org.setAPIUsage(990)
        let report = await client.triage()
        #expect(action(report, "limits") == .switchToCriticalOnly)
        #expect(report.recommendation == .switchToCriticalOnly)
    }

    @Test func anExhaustedLimitMeansCriticalOnly() async throws {
        let (org, client) = try setUp(options: SimulatorOptions(dailyAPILimit: 1_000))
        org.setAPIUsage(1_000)
        let report = await client.triage()
        #expect(action(report, "limits") == .switchToCriticalOnly)
    }

    @Test func anInvalidSessionThatCannotBeRefreshedMeansReauthenticate() async throws {
        let (org, client) = try setUp(provider: { org in
            OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: "r", clientID: "c", clientSecret: nil),
                               transport: org, clock: self.clock)
        })
        org.revokeRefreshTokens()
        let report = await client.triage()
        #expect(action(report, "limits") == .reauthenticate)
        #expect(report.recommendation == .reauthenticate)
    }

    @Test func malformedQueriesDominatingMeanARollBack() async throws {
        let (_, client) = try setUp()
        for _ in 0..<10 { _ = try? await client.query(SOQL(unsafeRaw: "SELECT Id FORM Account"), as: Row.self).collect() }
        let report = await client.triage()
        #expect(action(report, "errors") == .rollBackCodeBug)
        #expect(report.findings.first { $0.check == "errors" }?.observation.contains("MALFORMED_QUERY ×10") == true)
        #expect(report.recommendation == .rollBackCodeBug)
    }

    @Test func anOutageMeansFallbackMode() async throws {
        let (_, client) = try setUp(faults: [ChaosFault(.respond(status: 503, retryAfter: nil, html: true), scope: .dataAPI)])
        for _ in 0..<10 { _ = try? await client.limits() }
        let report = await client.triage()
        #expect(action(report, "limits") == .enableFallbackMode)
        #expect(action(report, "errors") == .enableFallbackMode)
        #expect(report.recommendation == .enableFallbackMode)
    }

    @Test func throttlingDominatingMeansSlowDown() async throws {
        let (_, client) = try setUp(faults: [.throttled(from: .zero, for: .seconds(60), retryAfter: "1")])
        for _ in 0..<10 { _ = try? await client.limits() }
        try await clock.sleep(until: .origin + .seconds(120))
        let report = await client.triage()
        #expect(action(report, "errors") == .slowDown)
    }

    @Test func anUnreachableStatusAPIIsAFindingNotAFailure() async throws {
        let (_, client) = try setUp(faults: [ChaosFault(.connectionFailure, scope: .all)])
        let report = await client.triage()
        #expect(report.findings.contains { $0.check == "incidents" && $0.observation.contains("unreachable") })
        #expect(report.description.contains("recommendation:"))
    }
}
