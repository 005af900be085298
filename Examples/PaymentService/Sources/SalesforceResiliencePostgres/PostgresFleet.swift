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
public struct PostgresFleet: Sendable {
    /// The database.
    public let database: FleetDatabase
    /// This worker's name in published openings.
    public let worker: String

    /// Creates the fleet's view; run ``FleetDatabase/migrate()`` first.
    public init(database: FleetDatabase, worker: String = PostgresOutboxStore.defaultWorkerName) {
        self.database = database
        self.worker = worker
    }

    private var logger: Logger { database.logger }
    private var settings: String { database.table("settings") }
    private var breakers: String { database.table("breakers") }

    /// Sets the mode every worker follows.
    public func setMode(_ mode: OperatingMode) async throws {
        try await database.client.query("""
            INSERT INTO \(unescaped: settings) (key, value, updated_at) VALUES ('mode', \(mode.rawValue), now())
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// The fleet's mode; `nil` if none was ever set.
    ///
    /// - Throws: ``PostgresStoreError`` for a value that is not a mode.
    public func mode() async throws -> OperatingMode? {
        let rows = try await database.client.query("SELECT value FROM \(unescaped: settings) WHERE key = 'mode'", logger: logger)
        for try await value in rows.decode(String.self) {
            guard let mode = OperatingMode(rawValue: value) else { throw PostgresStoreError("the fleet's mode \"\(value)\" is not a mode") }
            return mode
        }
        return nil
    }

    /// Publishes that the breaker for `host` is open until `until` (a later opening wins).
    public func publishOpening(host: String, until: Date) async throws {
        try await database.client.query("""
            INSERT INTO \(unescaped: breakers) (host, open_until, opened_by) VALUES (\(host), \(until), \(worker))
            ON CONFLICT (host) DO UPDATE SET open_until = EXCLUDED.open_until, opened_by = EXCLUDED.opened_by
            WHERE \(unescaped: breakers).open_until < EXCLUDED.open_until
            """, logger: logger)
    }

    /// Breaker openings that have not ended, by host.
    public func openings(at now: Date) async throws -> [String: Date] {
        let rows = try await database.client.query(
            "SELECT host, open_until FROM \(unescaped: breakers) WHERE open_until > \(now)", logger: logger)
        var found: [String: Date] = [:]
        for try await (host, until) in rows.decode((String, Date).self) { found[host] = until }
        return found
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
        let clock = client.clock
        let wallNow = clock.wallClockNow
        let now = clock.now
        let shared = try await openings(at: wallNow)
        for (host, until) in shared {
            let breaker = client.breakers.breaker(for: host)
            let remaining = Duration.milliseconds(Int64(until.timeIntervalSince(wallNow) * 1000))
            // A local break that ends at least as late needs nothing.
            if let local = breaker.nextProbeAt, local - now >= remaining - .seconds(1) { continue }
            if breaker.state == .isolated { continue }
            breaker.trip(for: remaining)
            sync.tripped.append(host)
        }
        for (host, breaker) in client.breakers.all {
            guard let probeAt = breaker.nextProbeAt else { continue }
            let until = wallNow.addingTimeInterval((probeAt - now) / .milliseconds(1) / 1000)
            if let known = shared[host], known.timeIntervalSince(until) > -1 { continue }
            try await publishOpening(host: host, until: until)
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
