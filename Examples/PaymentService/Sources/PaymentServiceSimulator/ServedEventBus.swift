import Foundation
import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPCTesting
import SalesforceResilienceTesting

/// The `events` command's embedded event bus: the library's Pub/Sub simulator served over
/// loopback HTTP/2 (`eventbus.v1.PubSub`), publishing the job's payment requests in real time —
/// `rate` a second until `count` — and dropping every open stream once, at a third of the job,
/// so the service shows a resubscription from its stored replay id.
public final class ServedEventBus: EmbeddedEventBus {
    /// The bus.
    public let bus: InMemoryPubSub
    private let server: PubSubGRPCServer
    private let publishing: Task<Void, Never>
    private let count: Int
    private let topic: String

    /// Serves `count` requests on `topic`, `rate` a second.
    public init(topic: String, count: Int, rate: Int) async throws {
        let clock = SystemClock()
        let bus = InMemoryPubSub(clock: clock)
        bus.register(schemaID: Self.schemaID, json: PaymentRequests.schemaJSON)
        server = try await PubSubGRPCServer(serving: bus)
        self.bus = bus
        self.count = count
        self.topic = topic
        let payloads = try (1...count).map { try PaymentRequests.payload($0, createdAt: Date()) }
        publishing = Task {
            let start = ContinuousClock.now
            for (index, payload) in payloads.enumerated() {
                let n = index + 1
                // Request n is due at (n - 1) / rate seconds.
                let due = start + .seconds(Double(index) / Double(max(1, rate)))
                if due > .now { try? await Task.sleep(until: due, clock: .continuous) }
                if Task.isCancelled { return }
                bus.publish(topic: topic, id: String(format: "EVT-%08d", n), schemaID: Self.schemaID, payload: payload)
                if n == count / 3 { bus.dropOpenStreams() }
            }
        }
    }

    static let schemaID = "PaymentRequested-1"

    /// The embedded event bus's factory.
    public static let embedded: EmbeddedEventBusFactory = { topic, count, rate, _ in
        try await ServedEventBus(topic: topic, count: count, rate: rate)
    }

    /// Where it listens.
    public var endpoint: String { "127.0.0.1:\(server.port)" }

    /// What it is and what it plays.
    public var summaryDescription: String {
        "an embedded Pub/Sub simulator at \(endpoint) (\(count) requests on \(topic); every stream dropped at a third)"
    }

    /// Requests published so far.
    public var published: Int { bus.publishedCount(of: topic) }

    /// The last request's replay id, once it is published.
    public var finalReplayID: Data? { published == count ? InMemoryPubSub.replayID(count - 1) : nil }

    /// Stops publishing and serving.
    public func stop() async {
        publishing.cancel()
        await server.stop()
    }
}
