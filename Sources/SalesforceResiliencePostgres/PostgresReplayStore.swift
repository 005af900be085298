#if PostgreSQL && PubSub // both package traits: this module's dependencies and the Pub/Sub module
import Foundation
import Logging
import PostgresNIO
import SalesforceResilience
import SalesforceResiliencePubSub

/// The ``ReplayStore`` of a fleet: one row per topic in the fleet's database, so a subscriber
/// restarted on another machine resumes where the last one finished.
///
/// A save is one upsert, bounded by ``FleetDatabase/queryTimeout`` like every store operation: a
/// stopped or frozen server fails it as transient (``PostgresStoreError/isTransient``) and the
/// row keeps the checkpoint saved before. Run one subscriber per topic: two writing one topic's
/// row would each move it to their own place (the last write wins).
public struct PostgresReplayStore: ReplayStore {
    /// The database.
    public let database: FleetDatabase

    /// Creates a store; run ``FleetDatabase/migrate()`` first (schema version 3 or later).
    public init(database: FleetDatabase) {
        self.database = database
    }

    private var table: String { database.table("replay_checkpoints") }

    /// The checkpoint of `topic`, or `nil`.
    public func checkpoint(for topic: String) async throws -> ReplayCheckpoint? {
        try await database.bounded("the replay checkpoint of \(topic)") { [self] in
            let rows = try await database.client.query(
                "SELECT replay_id, recent_event_ids::text, saved_at FROM \(unescaped: table) WHERE topic = \(topic)", logger: database.logger)
            for try await (replayID, recent, savedAt) in rows.decode((Data, String, Date).self) {
                let ids = try JSONDecoder().decode([String].self, from: Data(recent.utf8))
                return ReplayCheckpoint(replayID: replayID, recentEventIDs: ids, savedAt: savedAt)
            }
            return nil
        }
    }

    /// Saves `checkpoint` for `topic` (one upsert); when it returns, the row holds it.
    public func save(_ checkpoint: ReplayCheckpoint, for topic: String) async throws {
        let recent = String(decoding: try JSONEncoder().encode(checkpoint.recentEventIDs), as: UTF8.self)
        try await database.bounded("the replay checkpoint of \(topic)") { [self] in
            try await database.client.query("""
                INSERT INTO \(unescaped: table) (topic, replay_id, recent_event_ids, saved_at)
                VALUES (\(topic), \(checkpoint.replayID), \(recent)::jsonb, \(checkpoint.savedAt))
                ON CONFLICT (topic) DO UPDATE SET replay_id = EXCLUDED.replay_id, recent_event_ids = EXCLUDED.recent_event_ids,
                    saved_at = EXCLUDED.saved_at
                """, logger: database.logger)
        }
    }
}
#endif
