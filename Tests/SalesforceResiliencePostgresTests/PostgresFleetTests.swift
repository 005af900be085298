#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import SalesforceResiliencePostgresTesting
import SalesforceResilience
import SalesforceResiliencePostgres
import SalesforceResilienceTesting
import Testing

/// The fleet's switch and shared breaker openings: one command changes every worker's mode, and
/// one worker's evidence of an outage opens the others' breakers until it ends.
@Suite struct PostgresFleetTests {
    let clock = VirtualClock(mode: .manual)

    func client(_ org: SalesforceSimulator) throws -> SalesforceClient {
        try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL, allowHTTPLoopback: true),
                             transport: org, tokenProvider: org.clientCredentialsProvider(), clock: clock)
    }

    @Test func aModeSetOnceIsFollowedByEveryWorker() async throws {
        try await withTestDatabase { (database) async throws in
            let org = SalesforceSimulator(clock: clock)
            let workers = try (0..<3).map { _ in try client(org) }
            let fleet = PostgresFleet(database: database, worker: "w")
            #expect(try await fleet.mode() == nil)
            for worker in workers { #expect(try await fleet.synchronise(worker).isEmpty) }

            try await PostgresFleet(database: database, worker: "operator").setMode(.criticalOnly)
            for worker in workers {
                #expect(try await fleet.synchronise(worker).mode == .criticalOnly)
                #expect(worker.mode == .criticalOnly)
            }
            try await PostgresFleet(database: database, worker: "operator").setMode(.normal)
            for worker in workers { _ = try await fleet.synchronise(worker) }
            #expect(workers.allSatisfy { $0.mode == .normal })
        }
    }

    @Test func oneWorkersOpeningTripsTheOthersUntilItEndsThenEachProbesOnItsOwn() async throws {
        try await withTestDatabase { (database) async throws in
            let org = SalesforceSimulator(clock: clock)
            let (a, b) = (try client(org), try client(org))
            let host = try #require(org.options.instanceURL.host)
            let fleetA = PostgresFleet(database: database, worker: "a", clock: clock)
            let fleetB = PostgresFleet(database: database, worker: "b", clock: clock)
            // Worker A saw the outage.
            a.breakers.breaker(for: host).trip(for: .seconds(10))
            #expect(try await fleetA.synchronise(a).published == [host])
            let openings = try await fleetB.openings()
            #expect(openings[host] == .seconds(10))

            // Worker B takes it: its breaker is open until the same moment.
            let sync = try await fleetB.synchronise(b)
            #expect(sync.tripped == [host])
            let breaker = b.breakers.breaker(for: host)
            #expect(breaker.state == .open)
            let probeAt = try #require(breaker.nextProbeAt)
            #expect(probeAt - clock.now >= .seconds(9) && probeAt - clock.now <= .seconds(10))
            #expect(try await fleetB.synchronise(b).isEmpty, "an opening taken once is not taken again")

            // When the shared break ends, B probes on its own and closes.
            await clock.advance(by: .seconds(11))
            #expect(try await fleetB.openings().isEmpty)
            _ = try await b.limits()
            #expect(breaker.state == .closed)
        }
    }

    @Test func anOpeningFromAWorkerWhoseClockRunsTenMinutesFastStopsNobodyLongerThanTheMaximumBreak() async throws {
        try await withTestDatabase { (database) async throws in
            let org = SalesforceSimulator(clock: clock)
            let host = try #require(org.options.instanceURL.host)
            // The fast worker's wall clock is 10 minutes ahead; the fleet's time is the database's.
            let fast = VirtualClock(mode: .manual, startDate: clock.wallClockNow.addingTimeInterval(600))
            let skewed = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL, allowHTTPLoopback: true),
                                              transport: org, tokenProvider: org.clientCredentialsProvider(), clock: fast)
            skewed.breakers.breaker(for: host).trip(for: .seconds(8))
            #expect(try await PostgresFleet(database: database, worker: "fast").synchronise(skewed).published == [host])
            let remaining = try #require(try await PostgresFleet(database: database, worker: "b").openings()[host])
            #expect(remaining > .seconds(6) && remaining <= .seconds(8), "published for \(remaining), not the 8 s the fast worker saw")

            // And a runaway opening (10 minutes) is taken for no longer than the taker's maximum break.
            try await PostgresFleet(database: database, worker: "runaway").publishOpening(host: host, for: .seconds(600))
            let capped = try SalesforceClient(
                configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL,
                                                       circuitBreaker: .init(breakDuration: .seconds(8), maxBreakDuration: .seconds(60)), allowHTTPLoopback: true),
                transport: org, tokenProvider: org.clientCredentialsProvider(), clock: clock)
            #expect(try await PostgresFleet(database: database, worker: "c").synchronise(capped).tripped == [host])
            let probeAt = try #require(capped.breakers.breaker(for: host).nextProbeAt)
            #expect(probeAt - clock.now == .seconds(60))
        }
    }
}
#endif
