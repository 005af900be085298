#if Observability // the package trait that brings this module's dependencies
import Foundation
import InMemoryTracing
import SalesforceResilience
import SalesforceResilienceObservability
import SalesforceResilienceTesting
import Testing
import Tracing

@Suite struct TracingMiddlewareTests {
    @Test func oneSpanPerCallWithAChildPerAttemptAndSanitisedAttributes() async throws {
        let tracer = InMemoryTracer()
        let transport = MockTransport(responses: [
            .success(.salesforceError(503, code: "SERVER_UNAVAILABLE", message: "down for PAY-SECRET-1")),
            .failure(TransportError.ambiguous(.connectionLost, "lost")),
            .success(.json(201, #"{"id":"a01","success":true,"errors":[],"created":true}"#)),
        ])
        var configuration = SalesforceConfiguration(instanceURL: URL(string: "https://acme.my.salesforce.com")!)
        configuration.callMiddleware = [TracingMiddleware(.call, tracer: tracer)]
        configuration.attemptMiddleware = [TracingMiddleware(.attempt, tracer: tracer)]
        let client = try SalesforceClient(configuration: configuration, transport: transport,
                                          tokenProvider: StaticTokenProvider(accessToken: "00D000000000001!TOKEN"),
                                          clock: VirtualClock(mode: .autoAdvance), random: RandomSource(seed: 1))
        _ = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-SECRET-1", fields: ["Amount__c": 1.0])

        let spans = tracer.finishedSpans
        let call = try #require(spans.first { $0.operationName == "salesforce upsert Payment__c" })
        let attempts = spans.filter { $0.operationName == "salesforce upsert Payment__c attempt" }
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0.parentSpanID == call.spanID && $0.traceID == call.traceID })
        #expect(attempts.map { $0.attributes["salesforce.attempt"]?.toSpanAttribute() } == [.int64(1), .int64(2), .int64(3)])
        #expect(attempts[0].attributes["salesforce.error_code"]?.toSpanAttribute() == .string("SERVER_UNAVAILABLE"))
        #expect(attempts[0].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(503))
        #expect(attempts[0].status?.code == .error)
        #expect(attempts[1].attributes["salesforce.failure_category"]?.toSpanAttribute() == .string("ambiguousNetwork"))
        #expect(attempts[2].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(201))
        #expect(call.status == nil && call.attributes["http.response.status_code"]?.toSpanAttribute() == .int64(201))
        // Nothing about the record: no URL (its path holds the external id), no message, no error recorded whole.
        for span in spans {
            #expect(span.errors.isEmpty)
            span.attributes.forEach { key, value in
                #expect(!"\(value)".contains("PAY-SECRET"), "\(key) carries the external id")
                #expect(!"\(value)".contains("TOKEN"), "\(key) carries the token")
            }
        }
    }
}
#endif
