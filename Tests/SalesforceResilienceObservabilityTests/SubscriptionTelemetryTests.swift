#if Observability && PubSub
import Foundation
import Logging
import MetricsTestKit
import SalesforceResilience
import SalesforceResilienceObservability
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import InMemoryTracing
import Testing
import Tracing

/// The Platform Events subscriber through the logging and metrics bridges.
@Suite struct SubscriptionTelemetryTests {
    static let topic = "/event/Payment_Requested__e"

    @Test func eventsAreLoggedAndCountedUnderBoundedLabels() throws {
        let factory = TestMetrics()
        let store = CapturingLogHandler.Store()
        let telemetry = SubscriptionTelemetry(logger: Logger(label: "t") { _ in CapturingLogHandler(store: store) },
                                              metrics: ResilienceMetrics(factory: factory))
        let stored = Data([0, 0, 0, 0, 0, 0, 0, 7])
        for event: SubscriptionEvent in [
            .subscribed(topic: Self.topic, from: .earliest),
            .resubscribing(topic: Self.topic, reason: "UNAVAILABLE: stream reset", delay: .milliseconds(700)),
            .resubscribing(topic: Self.topic, reason: "no message or keepalive within 300.0 seconds", delay: .seconds(1)),
            .resubscribing(topic: Self.topic, reason: "the circuit breaker acme is open", delay: .seconds(8)),
            .resubscribing(topic: Self.topic, reason: "the server closed the stream", delay: .seconds(1)),
            .subscribed(topic: Self.topic, from: .custom(stored)),
            .replayIDAgedOut(topic: Self.topic, storedReplayID: stored, resumedFrom: .earliest),
            .duplicateSkipped(topic: Self.topic, eventID: "E-secret-id"),
        ] { telemetry.record(event) }

        #expect(try factory.expectCounter("salesforce_pubsub_subscriptions_total", [("topic", Self.topic)]).totalValue == 2)
        for reason in ["failed", "silent", "breaker", "closed"] {
            #expect(try factory.expectCounter("salesforce_pubsub_resubscribes_total", [("reason", reason), ("topic", Self.topic)]).totalValue == 1, "\(reason)")
        }
        #expect(try factory.expectCounter("salesforce_pubsub_replay_aged_out_total", [("topic", Self.topic)]).totalValue == 1)
        #expect(try factory.expectCounter("salesforce_pubsub_duplicates_skipped_total", [("topic", Self.topic)]).totalValue == 1)

        let lines = store.all
        #expect(lines.count == 8)
        #expect(lines.filter { $0.level == .info }.count == 6 && lines.last?.level == .debug)
        let agedOut = try #require(lines.first { $0.message.contains("aged out") })
        #expect(agedOut.level == .warning, "events may have been missed: an operator should see it")
        #expect(agedOut.metadata["stored_replay_id"] == "\(stored.base64EncodedString())")
        #expect(!lines.contains { $0.text.contains("E-secret-id") }, "an event's id stays out of the log")
    }

    @Test func gaugesReadTheSubscribersStatus() async throws {
        let clock = VirtualClock(mode: .manual)
        let bus = InMemoryPubSub(clock: clock)
        let schema = #"{"type": "record", "name": "E", "fields": [{"name": "Reference__c", "type": "string"}]}"#
        bus.register(schemaID: "S1", json: schema)
        let avro = try AvroSchema(json: schema)
        for n in 1...5 {
            bus.publish(topic: Self.topic, id: "E-\(n)", schemaID: "S1",
                        payload: try AvroEncoder().encode(.record(AvroRecord(name: "E", names: ["Reference__c"], values: [.string("R-\(n)")])), as: avro))
        }
        let factory = TestMetrics()
        let telemetry = SubscriptionTelemetry(metrics: ResilienceMetrics(factory: factory))
        let tokens = TokenStore(provider: StaticTokenProvider(AccessToken(value: "t", instanceURL: URL(string: "https://acme.my.salesforce.com"))), clock: clock)
        let subscriber = PubSubSubscriber(topic: Self.topic, connection: bus, tokens: tokens, store: InMemoryReplayStore(),
                                          options: SubscriptionOptions(startWithoutCheckpoint: .earliest), clock: clock, onEvent: telemetry.onEvent)
        let handled = Lock(0)
        let run = Task { try await subscriber.run { _ in handled.withLock { $0 += 1 } } }
        for _ in 0..<100_000 where handled.withLock({ $0 }) < 5 { await Task.yield() }
        await telemetry.observe(subscriber, now: clock.wallClockNow.addingTimeInterval(42))
        run.cancel()
        _ = try? await run.value

        #expect(handled.withLock { $0 } == 5)
        #expect(try factory.expectGauge("salesforce_pubsub_state", [("topic", Self.topic)]).lastValue == 1, "subscribed")
        #expect(try factory.expectGauge("salesforce_pubsub_events_handled", [("topic", Self.topic)]).lastValue == 5)
        #expect(try factory.expectGauge("salesforce_pubsub_seconds_since_heard", [("topic", Self.topic)]).lastValue == 42)
        #expect(try factory.expectCounter("salesforce_pubsub_subscriptions_total", [("topic", Self.topic)]).totalValue == 1)
    }

    @Test func eachEventIsASpanWithItsAgeAndAFailingHandlerMarksItsSpan() async throws {
        let tracer = InMemoryTracer()
        let factory = TestMetrics()
        let telemetry = SubscriptionTelemetry(metrics: ResilienceMetrics(factory: factory), tracer: tracer,
                                              now: { Date(timeIntervalSince1970: 1_700_000_002.5) })
        let schema = try AvroSchema(json: #"{"type": "record", "name": "E", "fields": [{"name": "CreatedDate", "type": "long"}, {"name": "Reference__c", "type": "string"}]}"#)
        func event(_ replay: UInt8, reference: String) -> PubSubEvent {
            PubSubEvent(topic: Self.topic, replayID: Data([0, replay]), id: "E-secret-id",
                        value: .record(AvroRecord(name: "E", names: ["CreatedDate", "Reference__c"], values: [.long(1_700_000_000_000), .string(reference)])),
                        schema: schema)
        }
        struct Refused: Error, CustomStringConvertible { var description: String { "refused PAY-SECRET" } }
        let handler = telemetry.traced { event in
            if event.value["Reference__c"]?.stringValue == "PAY-SECRET" { throw Refused() }
        }
        try await handler(event(1, reference: "PAY-1"))
        await #expect(throws: Refused.self) { try await handler(event(2, reference: "PAY-SECRET")) }

        let spans = tracer.finishedSpans
        #expect(spans.map(\.operationName) == ["pubsub process \(Self.topic)", "pubsub process \(Self.topic)"])
        #expect(spans.allSatisfy { $0.kind == .consumer })
        #expect(spans[0].attributes["salesforce.pubsub.event_age_ms"]?.toSpanAttribute() == .int64(2_500))
        #expect(spans[0].attributes["salesforce.pubsub.replay_id"]?.toSpanAttribute() == .string(Data([0, 1]).base64EncodedString()))
        #expect(spans[0].attributes["messaging.destination.name"]?.toSpanAttribute() == .string(Self.topic))
        #expect(spans[0].status == nil)
        #expect(spans[1].status?.code == .error && spans[1].errors.isEmpty)
        for span in spans {
            span.attributes.forEach { key, value in
                #expect(!"\(value)".contains("secret") && !"\(value)".contains("SECRET"), "\(key) carries the event's id or fields")
            }
            let message = span.status?.message ?? ""
            #expect(!message.contains("SECRET"), "the status names the error's type only: \(message)")
        }
        #expect(try factory.expectGauge("salesforce_pubsub_event_age_seconds", [("topic", Self.topic)]).lastValue == 2.5)
    }
}
#endif
