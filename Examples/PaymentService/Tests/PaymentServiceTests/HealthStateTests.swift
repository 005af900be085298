import Foundation
@testable import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Testing

/// `/health` and `/ready` as the worker's state drives them: a worker that retries is alive but
/// not ready; one silent past the time its next step was due is stuck, and not alive.
@Suite struct HealthStateTests {
    func wiring() throws -> (SalesforceClient, Outbox) {
        let clock = VirtualClock(mode: .manual)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        return (client, Outbox(store: InMemoryOutboxStore(clock: clock), client: client))
    }

    @Test func aRetryingWorkerIsAliveButNotReadyUntilItRecovers() async throws {
        let (client, outbox) = try wiring()
        let health = HealthState(stuckAfter: .seconds(60))
        health.beat(quietFor: .seconds(1))
        health.workerRetrying(PostgresTimeoutStandIn())
        let (ready, report) = await health.readiness(client: client, outbox: outbox)
        #expect(ready == 503)
        #expect(report.checks.contains { $0.name == "store and login" && !$0.ok && $0.detail.contains("retrying") })
        #expect(await health.liveness(client: client, outbox: outbox).0 == 200)
        health.workerRecovered()
        #expect(await health.readiness(client: client, outbox: outbox).1.checks.first { $0.name == "store and login" }?.ok == true)
    }

    @Test func oneWorkerRecoveringDoesNotClearTheOthersRetry() async throws {
        let (client, outbox) = try wiring()
        let health = HealthState(stuckAfter: .seconds(60))
        health.workerRetrying(PostgresTimeoutStandIn(), worker: .outbox)
        health.workerRetrying(PostgresTimeoutStandIn(), worker: .events)
        let both = await health.readiness(client: client, outbox: outbox).1.checks.first { $0.name == "store and login" }
        #expect(both?.detail.contains("retrying (events)") == true && both?.detail.contains("retrying (outbox)") == true)
        health.workerRecovered(worker: .outbox)
        let (ready, report) = await health.readiness(client: client, outbox: outbox)
        #expect(ready == 503, "the events handler still retries")
        #expect(report.checks.first { $0.name == "store and login" }?.detail == "retrying: PostgreSQL did not answer claim within 5 s")
        #expect(health.isRetrying)
        health.workerRecovered(worker: .events)
        #expect(!health.isRetrying)
        #expect(await health.readiness(client: client, outbox: outbox).1.checks.first { $0.name == "store and login" }?.ok == true)
    }

    @Test func aWorkerSilentPastItsDueTimeIsStuck() async throws {
        let (client, outbox) = try wiring()
        let quiet = HealthState(stuckAfter: .seconds(60))
        quiet.beat(quietFor: .seconds(900))  // paused for the API limit: quiet, and fine
        #expect(await quiet.liveness(client: client, outbox: outbox).0 == 200)
        let stuck = HealthState(stuckAfter: .zero)
        stuck.beat(quietFor: .zero)  // due at once, and nothing since
        let (alive, report) = await stuck.liveness(client: client, outbox: outbox)
        #expect(alive == 503)
        #expect(report.checks.first { $0.name == "worker" }?.detail.hasPrefix("stuck") == true)
    }

    struct PostgresTimeoutStandIn: Error, CustomStringConvertible {
        var description: String { "PostgreSQL did not answer claim within 5 s" }
    }

    @Test func theSubscriptionIsReadyOnlyWithAStreamOpenAndSaysWhatTheRunbookAsks() {
        let now = Date(timeIntervalSince1970: 1_000)
        var status = SubscriptionStatus()
        #expect(HealthState.check("/event/A__e", status, now: now) == .init(
            name: "subscription /event/A__e", ok: false,
            detail: "starting; 0 handled, 0 duplicates skipped, 0 resubscribes, 0 silent streams rebuilt, 0 keepalives; nothing heard yet"))
        status.state = .subscribed
        status.handled = 12
        status.resubscribes = 2
        status.silentStreamsRebuilt = 1
        status.keepalives = 3
        status.lastHeardAt = now - 4
        let subscribed = HealthState.check("/event/A__e", status, now: now)
        #expect(subscribed.ok && subscribed.detail == "subscribed; 12 handled, 0 duplicates skipped, 2 resubscribes, 1 silent streams rebuilt, 3 keepalives; last heard 4 s ago")
        status.state = .resubscribing
        #expect(!HealthState.check("/event/A__e", status, now: now).ok)
        status.state = .stopped("the replay id aged out")
        let stopped = HealthState.check("/event/A__e", status, now: now)
        #expect(!stopped.ok && stopped.detail.hasPrefix("stopped: the replay id aged out;"))
    }
}
