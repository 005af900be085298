#if Observability // the package trait that brings this module's dependencies
import Foundation
import MetricsTestKit
import SalesforceResilience
import SalesforceResilienceObservability
import SalesforceResilienceTesting
import Testing

@Suite struct ResilienceMetricsTests {
    @Test func anIncidentIsCountedUnderTheDocumentedNames() async throws {
        let factory = TestMetrics()
        let metrics = ResilienceMetrics(factory: factory)
        let recorder = EventRecorder()
        let (_, client, clock) = try incident(events: .combining([metrics.sink, recorder.sink]))
        let outbox = try await postThroughTheIncident(client, clock: clock)

        let completed = recorder.events.filter { if case .callCompleted = $0 { true } else { false } }.count
        let successes = try factory.expectCounter("salesforce_calls_total", [("outcome", "success")]).totalValue
        let failures = factory.counters(label: "salesforce_calls_total").filter { $0.dimensions.first?.1 != "success" }.map(\.totalValue).reduce(0, +)
        #expect(successes > 0 && failures > 0)
        #expect(Int(successes + failures) == completed, "one count per finished call")
        #expect(try factory.expectTimer("salesforce_call_duration_seconds", [("outcome", "success")]).values.count == Int(successes))
        let retries = recorder.events.filter { if case .retryScheduled = $0 { true } else { false } }.count
        #expect(factory.counters(label: "salesforce_retries_total").map(\.totalValue).reduce(0, +) == Int64(retries))
        #expect(try factory.expectCounter("salesforce_retries_total", [("reason", "transientServer")]).totalValue > 0)
        #expect(try factory.expectCounter("salesforce_breaker_opens_total", [("host", "sim.my.salesforce.com")]).totalValue > 0)
        #expect(try factory.expectCounter("salesforce_token_refreshes_total").totalValue >= 1)
        #expect(try factory.expectCounter("salesforce_outbox_dead_letters_total", [("sobject", "Payment__c")]).totalValue == 1)

        metrics.observe(client)
        try await metrics.observe(outbox)
        let usage = try #require(client.apiUsage)
        #expect(try factory.expectGauge("salesforce_api_requests_used").lastValue == Double(usage.used))
        #expect(try factory.expectGauge("salesforce_api_requests_limit").lastValue == Double(usage.max))
        #expect(try factory.expectGauge("salesforce_breaker_state", [("host", "sim.my.salesforce.com")]).lastValue == 0)  // closed again
        #expect(try factory.expectGauge("salesforce_operating_mode", [("mode", "normal")]).lastValue == 1)
        #expect(try factory.expectGauge("salesforce_operating_mode", [("mode", "paused")]).lastValue == 0)
        #expect(try factory.expectGauge("salesforce_outbox_backlog").lastValue == 0)
    }

    @Test func theBreakerGaugeFollowsItsState() throws {
        let factory = TestMetrics()
        let metrics = ResilienceMetrics(factory: factory)
        metrics.record(.breakerStateChanged(key: "acme.my.salesforce.com", from: .closed, to: .open))
        #expect(try factory.expectGauge("salesforce_breaker_state", [("host", "acme.my.salesforce.com")]).lastValue == 2)
        metrics.record(.breakerStateChanged(key: "acme.my.salesforce.com", from: .open, to: .halfOpen))
        #expect(try factory.expectGauge("salesforce_breaker_state", [("host", "acme.my.salesforce.com")]).lastValue == 1)
        metrics.record(.modeChanged(from: .normal, to: .criticalOnly))
        #expect(try factory.expectGauge("salesforce_operating_mode", [("mode", "criticalOnly")]).lastValue == 1)
        #expect(try factory.expectGauge("salesforce_operating_mode", [("mode", "normal")]).lastValue == 0)
        metrics.record(.tokenAdopted(revision: 7))
        metrics.record(.tokenAdopted(revision: 8))
        #expect(try factory.expectCounter("salesforce_tokens_adopted_total").totalValue == 2)
    }

    @Test func theSendRateGaugeFollowsTheAdaptiveThrottle() throws {
        let factory = TestMetrics()
        let metrics = ResilienceMetrics(factory: factory)
        metrics.record(.sendRateChanged(requestsPerSecond: 42.5))
        #expect(try factory.expectGauge("salesforce_send_rate_limit").lastValue == 42.5)
        metrics.record(.sendRateChanged(requestsPerSecond: nil))
        #expect(try factory.expectGauge("salesforce_send_rate_limit").lastValue == 0)
    }
}
#endif
