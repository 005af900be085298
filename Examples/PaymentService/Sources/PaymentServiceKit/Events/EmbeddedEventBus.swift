import Foundation

/// A Pub/Sub API endpoint served in this process for the `events` command when it has no
/// `--instance-url`: the example's embedded event bus (target `PaymentServiceSimulator`), which
/// publishes the job's payment requests on the topic as they arrive.
public protocol EmbeddedEventBus: Sendable {
    /// Where it listens, `127.0.0.1:port` (plaintext HTTP/2).
    var endpoint: String { get }
    /// What it is, for the service's start-up line.
    var summaryDescription: String { get }
    /// Requests published so far.
    var published: Int { get }
    /// The replay id of the job's last request, once every request is published.
    var finalReplayID: Data? { get }
    /// Stops serving.
    func stop() async
}

/// Makes the embedded event bus: `count` requests on `topic`, `rate` a second, faults from `seed`.
public typealias EmbeddedEventBusFactory = @Sendable (_ topic: String, _ count: Int, _ rate: Int, _ seed: UInt64) async throws -> any EmbeddedEventBus
