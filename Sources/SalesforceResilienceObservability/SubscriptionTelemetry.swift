#if Observability && PubSub // with both traits: the Platform Events subscriber's figures
import Foundation
import Logging
import SalesforceResilience
import SalesforceResiliencePubSub
import Tracing

/// A ``PubSubSubscriber``'s events as log lines and counters, and its status as gauges.
///
/// | name | kind | labels | from |
/// |---|---|---|---|
/// | `salesforce_pubsub_subscriptions_total` | counter | `topic` | each stream opened |
/// | `salesforce_pubsub_resubscribes_total` | counter | `topic`, `reason` (`failed`, `closed`, `silent`, `breaker`) | each wait before a new stream |
/// | `salesforce_pubsub_replay_aged_out_total` | counter | `topic` | a stored replay id no longer retained, resumed by the policy |
/// | `salesforce_pubsub_duplicates_skipped_total` | counter | `topic` | an event redelivered after it was handled |
/// | `salesforce_pubsub_state` | gauge | `topic` | 0 starting, 1 subscribed, 2 resubscribing, 3 stopped |
/// | `salesforce_pubsub_events_handled` | gauge | `topic` | events handled by this run |
/// | `salesforce_pubsub_keepalives` | gauge | `topic` | keepalives received by this run |
/// | `salesforce_pubsub_seconds_since_heard` | gauge | `topic` | since the stream last said anything: the runbook's "stopped receiving" signal |
/// | `salesforce_pubsub_event_age_seconds` | gauge | `topic` | the last event's age when its handling began (now − `CreatedDate`): the replay lag |
///
/// ``traced(_:)`` wraps the handler: each event in a span `pubsub process <topic>` (kind
/// consumer), the parent of the Salesforce calls the handler makes.
///
/// ```swift
/// let telemetry = SubscriptionTelemetry(logger: Logger(label: "payments.events"), metrics: metrics)
/// let subscriber = PubSubSubscriber(topic: topic, connection: connection, tokens: tokens, store: store,
///                                   onEvent: telemetry.onEvent)
/// try await subscriber.run(telemetry.traced { event in try await work(event) })
/// ```
public struct SubscriptionTelemetry: Sendable {
    private let logger: Logger?
    private let metrics: ResilienceMetrics?
    private let tracer: any Tracer
    private let now: @Sendable () -> Date

    /// Writes to `logger` (state changes at `info`, an aged-out replay id at `warning`, duplicates
    /// at `debug`), counts in `metrics`, and opens spans with `tracer` (the process's
    /// `InstrumentationSystem.tracer` by default); `now` is the wall clock event ages are
    /// measured against.
    public init(logger: Logger? = nil, metrics: ResilienceMetrics? = nil, tracer: (any Tracer)? = nil,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.logger = logger
        self.metrics = metrics
        self.tracer = tracer ?? InstrumentationSystem.tracer
        self.now = now
    }

    /// `handler`, with each event in a consumer span `pubsub process <topic>`. Its attributes
    /// are the topic, the replay id (base64) and the event's age in milliseconds when it carries
    /// a `CreatedDate` — never the event's id or fields. A handler that throws marks the span
    /// as an error with the error's type only (its message may quote the event), and the error
    /// goes on to the subscriber unchanged.
    public func traced(_ handler: @escaping @Sendable (PubSubEvent) async throws -> Void) -> @Sendable (PubSubEvent) async throws -> Void {
        { [self] event in
            let outcome: Result<Void, any Error> = await tracer.withSpan("pubsub process \(event.topic)", ofKind: .consumer) { span in
                span.attributes["messaging.system"] = "salesforce_pubsub"
                span.attributes["messaging.operation.type"] = "process"
                span.attributes["messaging.destination.name"] = event.topic
                span.attributes["salesforce.pubsub.replay_id"] = event.replayID.base64EncodedString()
                if let created = event.value["CreatedDate"]?.integerValue {
                    let age = max(0, now().timeIntervalSince1970 * 1_000 - Double(created))
                    span.attributes["salesforce.pubsub.event_age_ms"] = Int64(age)
                    metrics?.set("pubsub_event_age_seconds", ["topic": event.topic], age / 1_000)
                }
                do {
                    try await handler(event)
                    return .success(())
                } catch {
                    if !(error is CancellationError) { span.setStatus(SpanStatus(code: .error, message: "\(type(of: error))")) }
                    return .failure(error)
                }
            }
            try outcome.get()
        }
    }

    /// The closure to pass as ``PubSubSubscriber``'s `onEvent`.
    public var onEvent: @Sendable (SubscriptionEvent) -> Void {
        { [self] event in record(event) }
    }

    /// Logs and counts one event. Lines carry the topic, reasons and delays: never an event's
    /// fields; the replay id only as the base64 the runbook asks for.
    public func record(_ event: SubscriptionEvent) {
        switch event {
        case .subscribed(let topic, let from):
            logger?.info("pubsub subscribed", metadata: ["topic": "\(topic)", "from": "\(Self.describe(from))"])
            metrics?.count("pubsub_subscriptions_total", ["topic": topic])
        case .resubscribing(let topic, let reason, let delay):
            let kind = Self.kind(of: reason)
            logger?.info("pubsub resubscribing", metadata: [
                "topic": "\(topic)", "reason": "\(kind)", "detail": "\(reason)", "delay_ms": "\(ResilienceMetrics.nanoseconds(delay) / 1_000_000)",
            ])
            metrics?.count("pubsub_resubscribes_total", ["topic": topic, "reason": kind])
        case .replayIDAgedOut(let topic, let stored, let resumedFrom):
            logger?.warning("pubsub stored replay id aged out; resumed by policy, events may be missed", metadata: [
                "topic": "\(topic)", "stored_replay_id": "\(stored.base64EncodedString())", "resumed_from": "\(Self.describe(resumedFrom))",
            ])
            metrics?.count("pubsub_replay_aged_out_total", ["topic": topic])
        case .duplicateSkipped(let topic, _):
            logger?.debug("pubsub duplicate skipped", metadata: ["topic": "\(topic)"])
            metrics?.count("pubsub_duplicates_skipped_total", ["topic": topic])
        }
    }

    /// Refreshes the gauges from `subscriber`'s status; `now` is the wall clock to measure
    /// silence against (the subscriber's clock's).
    public func observe(_ subscriber: PubSubSubscriber, now: Date = Date()) async {
        guard let metrics else { return }
        let status = await subscriber.status
        let labels = ["topic": subscriber.topic]
        let state: Int = switch status.state {
        case .starting: 0
        case .subscribed: 1
        case .resubscribing: 2
        case .stopped: 3
        }
        metrics.set("pubsub_state", labels, Double(state))
        metrics.set("pubsub_events_handled", labels, Double(status.handled))
        metrics.set("pubsub_keepalives", labels, Double(status.keepalives))
        if let heard = status.lastHeardAt { metrics.set("pubsub_seconds_since_heard", labels, max(0, now.timeIntervalSince(heard))) }
    }

    /// A bounded label for a resubscription's reason.
    static func kind(of reason: String) -> String {
        if reason.contains("circuit breaker") { return "breaker" }
        if reason.contains("no message or keepalive") { return "silent" }
        if reason.contains("closed the stream") { return "closed" }
        return "failed"
    }

    static func describe(_ preset: ReplayPreset) -> String {
        switch preset {
        case .latest: "LATEST"
        case .earliest: "EARLIEST"
        case .custom(let id): "CUSTOM \(id.base64EncodedString())"
        }
    }
}

extension ResilienceMetrics {
    func count(_ name: String, _ labels: [String: String]) { counter(name, labels).increment() }
    func set(_ name: String, _ labels: [String: String], _ value: Double) { gauge(name, labels).record(value) }
}
#endif
