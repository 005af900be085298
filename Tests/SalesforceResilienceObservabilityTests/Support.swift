#if Observability // the package trait that brings this module's dependencies
import Foundation
import Logging
import SalesforceResilience
import SalesforceResilienceTesting
import Synchronization

/// A swift-log handler that keeps every line, for assertions.
struct CapturingLogHandler: LogHandler {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
        /// The whole line as text, metadata included: what a grep would see.
        var text: String { "\(level) \(message) \(metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))" }
    }

    final class Store: Sendable {
        let lines = Mutex<[Line]>([])
        var all: [Line] { lines.withLock { $0 } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.lines.withLock { $0.append(Line(level: event.level, message: "\(event.message)", metadata: merged)) }
    }
}

/// The runbook's incident in memory: a storm, lost answers, an expired session, a record
/// rejected for good; a client wired to `events`, with `configure` applied.
func incident(
    events: ResilienceEventSink, configure: (inout SalesforceConfiguration) -> Void = { _ in }
) throws -> (SalesforceSimulator, SalesforceClient, VirtualClock) {
    let clock = VirtualClock(mode: .autoAdvance)
    let org = SalesforceSimulator(clock: clock)
    org.expireSessions(at: .origin + .seconds(60))
    let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 5, faults: [
        .serviceUnavailable(from: .seconds(20), for: .seconds(60)),
        .lostResponses(probability: 0.1),
    ])
    var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL)
    configure(&configuration)
    let client = try SalesforceClient(
        configuration: configuration, transport: chaos,
        tokenProvider: OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .clientCredentials(clientID: "id", clientSecret: "secret"),
                                          transport: chaos, clock: clock),
        events: events, clock: clock, random: RandomSource(seed: 5))
    return (org, client, clock)
}

/// Posts `count` payments, one every 5 s, each until it lands; one payment is invalid and is
/// dead-lettered by an outbox over the same client.
func postThroughTheIncident(_ client: SalesforceClient, clock: VirtualClock, count: Int = 30) async throws -> Outbox {
    for n in 1...count {
        try await clock.sleep(until: .origin + .seconds(Int64(5 * n)))
        for _ in 0..<100 {
            do {
                _ = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-SECRET-\(n)",
                                            fields: ["Amount__c": Double(n)], priority: .critical)
                break
            } catch {
                try await clock.sleep(until: clock.now + .seconds(5))
            }
        }
    }
    let outbox = Outbox(store: InMemoryOutboxStore(), client: client, random: RandomSource(seed: 1))
    try await outbox.enqueue([OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-SECRET-BAD",
                                          fields: ["No Such Field": .string("card 4111 1111 1111 1111")], enqueuedAt: clock.wallClockNow)])
    try await outbox.drain()
    return outbox
}
#endif
