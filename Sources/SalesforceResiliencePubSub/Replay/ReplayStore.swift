#if PubSub // the package trait that brings this module
import Foundation

/// Where a subscription keeps its place: per topic, the replay id of the last event its handler
/// finished, and the ids of the events handled most recently.
///
/// The subscriber writes a checkpoint only after the handler succeeded, so delivery is at least
/// once: after a crash it resubscribes from the stored replay id and the events after it come
/// again. ``ReplayCheckpoint/recentEventIDs`` lets a handler that asks for it skip an event it
/// already handled when Salesforce delivers one twice.
public protocol ReplayStore: Sendable {
    /// The checkpoint of `topic`; `nil` when none was saved.
    func checkpoint(for topic: String) async throws -> ReplayCheckpoint?
    /// Saves `checkpoint` for `topic` durably: when it returns, a crash does not lose it.
    func save(_ checkpoint: ReplayCheckpoint, for topic: String) async throws
}

/// A subscription's place in one topic.
public struct ReplayCheckpoint: Sendable, Hashable, Codable {
    /// The replay id of the last event handled: opaque bytes, as the Pub/Sub API sent them.
    public var replayID: Data
    /// The `EventUuid`s of the events handled most recently, oldest first, at most
    /// ``ReplayCheckpoint/recentLimit``.
    public var recentEventIDs: [String]
    /// When it was saved, to the millisecond (what every store keeps).
    public var savedAt: Date

    /// How many recent event ids a checkpoint keeps. Salesforce delivers an event twice only
    /// around a resubscription, so a few hundred cover any redelivery.
    public static let recentLimit = 500

    /// Creates a checkpoint, keeping the last ``recentLimit`` of `recentEventIDs` and `savedAt`
    /// to the millisecond.
    public init(replayID: Data, recentEventIDs: [String] = [], savedAt: Date) {
        self.replayID = replayID
        self.recentEventIDs = Array(recentEventIDs.suffix(Self.recentLimit))
        self.savedAt = Date(timeIntervalSince1970: (savedAt.timeIntervalSince1970 * 1_000).rounded() / 1_000)
    }

    /// The checkpoint after handling the event with `replayID` and `eventID`.
    public func advanced(to replayID: Data, eventID: String?, at date: Date) -> ReplayCheckpoint {
        var recent = recentEventIDs
        if let eventID { recent.append(eventID) }
        return ReplayCheckpoint(replayID: replayID, recentEventIDs: recent, savedAt: date)
    }

    /// Whether the event `eventID` was handled recently.
    public func handled(_ eventID: String) -> Bool { recentEventIDs.contains(eventID) }
}

/// Checkpoints in memory, for tests and for subscribers that start from the tip every time.
public actor InMemoryReplayStore: ReplayStore {
    private var checkpoints: [String: ReplayCheckpoint] = [:]

    /// Creates an empty store.
    public init() {}

    /// The checkpoint of `topic`.
    public func checkpoint(for topic: String) -> ReplayCheckpoint? { checkpoints[topic] }

    /// Keeps `checkpoint` for `topic`.
    public func save(_ checkpoint: ReplayCheckpoint, for topic: String) { checkpoints[topic] = checkpoint }
}
#endif
