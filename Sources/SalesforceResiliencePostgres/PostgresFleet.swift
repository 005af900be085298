#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import Logging
import PostgresNIO
import SalesforceResilience

/// The settings a fleet of workers obeys together: the operating mode (the runbooks' kill
/// switch, changed with one command and followed by every worker within seconds, no deploy, no
/// restart) and circuit-breaker openings (one worker's evidence of an outage spares the others'
/// calls).
///
/// Each worker runs ``follow(_:every:)`` beside its client: every `interval` it takes the
/// fleet's mode, trips its breakers for the openings others published, and publishes its own.
/// When a shared break ends, each worker probes on its own schedule, as after an opening of its
/// own.
///
/// Openings are stored and read as times on the database's clock (`now()`) and handed between
/// workers as durations, so a worker whose own clock is off neither publishes an opening that
/// stops the fleet too long nor misreads another's; an adopted opening is also capped by the
/// taker's ``CircuitBreakerOptions/maxBreakDuration``.
public struct PostgresFleet: Sendable {
    /// The database.
    public let database: FleetDatabase
    /// This worker's name in published openings.
    public let worker: String
    private let clock: (any ResilienceClock)?

    /// Creates the fleet's view; run ``FleetDatabase/migrate()`` first.
    ///
    /// - Parameter clock: the time openings are measured on; `nil` (the default) is the
    ///   database's `now()`. A test passes a virtual clock.
    public init(database: FleetDatabase, worker: String = PostgresOutboxStore.defaultWorkerName, clock: (any ResilienceClock)? = nil) {
        self.database = database
        self.worker = worker
        self.clock = clock
    }

    /// The fleet's time as a bind for `COALESCE(…, now())`: `nil` means the database's clock.
    private var now: Date? { clock?.wallClockNow }

    private var logger: Logger { database.logger }
    private var settings: String { database.table("settings") }
    private var breakers: String { database.table("breakers") }

    /// Sets the mode every worker follows.
    public func setMode(_ mode: OperatingMode) async throws {
        try await database.bounded("setMode") { [self] in
            try await database.client.query("""
                INSERT INTO \(unescaped: settings) (key, value, updated_at) VALUES ('mode', \(mode.rawValue), now())
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
                """, logger: logger)
        }
    }

    /// The fleet's mode; `nil` if none was ever set.
    ///
    /// - Throws: ``PostgresStoreError`` for a value that is not a mode.
    public func mode() async throws -> OperatingMode? {
        return try await database.bounded("mode") { [self] in
            let rows = try await database.client.query("SELECT value FROM \(unescaped: settings) WHERE key = 'mode'", logger: logger)
            for try await value in rows.decode(String.self) {
                guard let mode = OperatingMode(rawValue: value) else { throw PostgresStoreError("the fleet's mode \"\(value)\" is not a mode") }
                return mode
            }
            return nil
        }
    }

    /// Publishes that the breaker for `host` is open for `duration` from now on the fleet's
    /// clock (a later opening wins).
    public func publishOpening(host: String, for duration: Duration) async throws {
        try await database.bounded("publishOpening") { [self] in
            try await database.client.query("""
                INSERT INTO \(unescaped: breakers) (host, open_until, opened_by)
                VALUES (\(host), COALESCE(\(now)::timestamptz, now()) + make_interval(secs => \(duration / .seconds(1))), \(worker))
                ON CONFLICT (host) DO UPDATE SET open_until = EXCLUDED.open_until, opened_by = EXCLUDED.opened_by
                WHERE \(unescaped: breakers).open_until < EXCLUDED.open_until
                """, logger: logger)
        }
    }

    /// Breaker openings that have not ended, by host: how long each has left, on the fleet's clock.
    public func openings() async throws -> [String: Duration] {
        return try await database.bounded("openings") { [self] in
            let rows = try await database.client.query("""
                WITH t AS (SELECT COALESCE(\(now)::timestamptz, now()) AS now)
                SELECT host, EXTRACT(EPOCH FROM open_until - t.now)::float8 FROM \(unescaped: breakers), t WHERE open_until > t.now
                """, logger: logger)
            var found: [String: Duration] = [:]
            for try await (host, seconds) in rows.decode((String, Double).self) { found[host] = .milliseconds(Int64(seconds * 1000)) }
            return found
        }
    }

    /// One round of following: the fleet's mode into `client`, others' openings into its
    /// breakers, its own openings out. Returns what it did, for logs.
    @discardableResult
    public func synchronise(_ client: SalesforceClient) async throws -> FleetSync {
        var sync = FleetSync()
        if let mode = try await mode(), mode != client.mode {
            client.mode = mode
            sync.mode = mode
        }
        let now = client.clock.now
        let shared = try await openings()
        for (host, remaining) in shared {
            let breaker = client.breakers.breaker(for: host)
            // A local break that ends at least as late needs nothing.
            if let local = breaker.nextProbeAt, local - now >= remaining - .seconds(1) { continue }
            if breaker.state == .isolated { continue }
            breaker.trip(for: remaining)  // capped by the breaker's maxBreakDuration
            sync.tripped.append(host)
        }
        for (host, breaker) in client.breakers.all {
            guard let probeAt = breaker.nextProbeAt else { continue }
            let remaining = probeAt - now
            if let known = shared[host], known >= remaining - .seconds(1) { continue }
            try await publishOpening(host: host, for: remaining)
            sync.published.append(host)
        }
        return sync
    }

    /// Runs ``synchronise(_:)`` every `interval` until cancelled (or a graceful shutdown of the
    /// task). A failed round (the database unreachable) is skipped: the worker keeps its own
    /// mode and breakers meanwhile.
    public func follow(_ client: SalesforceClient, every interval: Duration = .seconds(2),
                       onRound: @Sendable (Result<FleetSync, any Error>) -> Void = { _ in }) async {
        while !Task.isCancelled {
            do {
                onRound(.success(try await synchronise(client)))
            } catch {
                onRound(.failure(error))
            }
            do { try await client.clock.sleep(for: interval) } catch { return }
        }
    }
}

/// What one round of ``PostgresFleet/synchronise(_:)`` changed.
public struct FleetSync: Sendable, Hashable {
    /// The mode taken from the fleet, if it changed.
    public var mode: OperatingMode?
    /// Hosts whose breaker was tripped on another worker's opening.
    public var tripped: [String] = []
    /// Hosts whose opening this worker published.
    public var published: [String] = []

    /// Whether anything changed.
    public var isEmpty: Bool { mode == nil && tripped.isEmpty && published.isEmpty }
}
#endif
