#if Observability // the package trait that brings this module's dependencies
import Foundation
import Logging
import SalesforceResilience
import SalesforceResilienceObservability
import SalesforceResilienceTesting
import Testing

@Suite struct LoggingSinkTests {
    @Test func anIncidentLogsStateChangesAtInfoAndAttemptsAtDebugWithoutASecretOrARecordValue() async throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(store: store) }
        let (org, client, clock) = try incident(events: .logging(to: logger))
        _ = try await postThroughTheIncident(client, clock: clock)
        let lines = store.all
        #expect(!lines.isEmpty)
        // Per attempt and per call: debug.
        #expect(lines.filter { $0.message == "salesforce attempt" }.allSatisfy { $0.level == .debug })
        #expect(lines.filter { $0.message == "salesforce call completed" }.allSatisfy { $0.level == .debug })
        // State changes: info.
        #expect(lines.contains { $0.level == .info && $0.message == "salesforce circuit breaker open" && $0.metadata["host"] == "sim.my.salesforce.com" })
        #expect(lines.contains { $0.level == .info && $0.message == "salesforce token refresh" })
        let dead = try #require(lines.first { $0.message == "salesforce record dead-lettered" })
        #expect(dead.level == .info && dead.metadata["sobject"] == "Payment__c" && dead.metadata["error_codes"] == "INVALID_FIELD")
        #expect(lines.allSatisfy { $0.level <= .info }, "warnings and errors are the application's to raise")
        // Nothing secret, no record data: tokens, external ids, field values, query text.
        let tokens = (1...org.tokensIssued).map { "SIMTOKEN\($0)" }
        for line in lines.map(\.text) {
            for secret in tokens + ["PAY-SECRET", "4111", "secret", "Bearer"] {
                #expect(!line.contains(secret), "a log line carries \(secret): \(line)")
            }
        }
    }

    @Test func errorCodesAreKeptAndMessagesDropped() throws {
        let store = CapturingLogHandler.Store()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(store: store) }
        ResilienceEventSink.logging(to: logger).emit(.deadLettered(
            key: "Payment__c/Reference__c/PAY-1", reason: "FIELD_CUSTOM_VALIDATION_EXCEPTION: Amount 12.50 for Jane Doe; DUPLICATE_VALUE: PAY-1"))
        let line = try #require(store.all.first)
        #expect(line.metadata["error_codes"] == "FIELD_CUSTOM_VALIDATION_EXCEPTION,DUPLICATE_VALUE")
        #expect(!line.text.contains("Jane") && !line.text.contains("PAY-1"))
    }
}
#endif
