#if PostgreSQL // the package trait that brings this module's dependencies
/// The schema's versions: step N brings version N-1 to N. Steps are only ever appended.
enum PostgresMigrations {
    static func steps(schema s: String) -> [[String]] {
        [
            // Version 1: the outbox, its dead letters, producers' sequences, the credential,
            // fleet settings and breaker openings.
            [
                """
                CREATE TABLE \(s).outbox (
                    key text PRIMARY KEY,
                    seq bigserial NOT NULL,
                    sobject text NOT NULL,
                    external_id_field text NOT NULL,
                    external_id text NOT NULL,
                    fields jsonb NOT NULL,
                    enqueued_at timestamptz NOT NULL,
                    attempts bigint NOT NULL DEFAULT 0,
                    group_key text,
                    lease_until timestamptz,
                    leased_by text)
                """,
                "CREATE INDEX outbox_seq ON \(s).outbox (seq)",
                "CREATE INDEX outbox_group ON \(s).outbox (group_key) WHERE group_key IS NOT NULL",
                """
                CREATE TABLE \(s).dead_letters (
                    id bigserial PRIMARY KEY,
                    key text NOT NULL,
                    entry jsonb NOT NULL,
                    reason text NOT NULL,
                    at timestamptz NOT NULL)
                """,
                "CREATE TABLE \(s).sequences (name text PRIMARY KEY, produced bigint NOT NULL)",
                """
                CREATE TABLE \(s).credentials (
                    name text PRIMARY KEY,
                    owner text NOT NULL,
                    revision bigint NOT NULL,
                    token jsonb NOT NULL,
                    stored_at timestamptz NOT NULL)
                """,
                "CREATE TABLE \(s).settings (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL)",
                "CREATE TABLE \(s).breakers (host text PRIMARY KEY, open_until timestamptz NOT NULL, opened_by text NOT NULL)",
            ],
            // Version 2: versioned outbox entries, so that settling a claim never removes a
            // newer enqueue of its key.
            [
                "ALTER TABLE \(s).outbox ADD COLUMN version bigint NOT NULL DEFAULT 1",
            ],
            // Version 3: Pub/Sub API subscriptions' replay checkpoints (PostgresReplayStore).
            [
                """
                CREATE TABLE \(s).replay_checkpoints (
                    topic text PRIMARY KEY,
                    replay_id bytea NOT NULL,
                    recent_event_ids jsonb NOT NULL,
                    saved_at timestamptz NOT NULL)
                """,
            ],
        ]
    }
}
#endif
