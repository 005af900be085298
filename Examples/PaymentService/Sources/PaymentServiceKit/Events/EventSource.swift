import Foundation
import SalesforceResiliencePubSub

/// The `events` command's work, as the outbox worker sees it: results are enqueued by the
/// subscriber's handler, so there is nothing to catch up; the job is over when the embedded
/// bus has published every request and the stored replay id is the last one's. Against a real
/// org a topic never ends.
struct EventSource: WorkSource {
    let bus: (any EmbeddedEventBus)?
    let replay: any ReplayStore
    let topic: String

    func catchUp() async throws {}

    func isExhausted() async throws -> Bool {
        guard let last = bus?.finalReplayID else { return false }
        return try await replay.checkpoint(for: topic)?.replayID == last
    }

    var itemName: String { "event's result" }
}
