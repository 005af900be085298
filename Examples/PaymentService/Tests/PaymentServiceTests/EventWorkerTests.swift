import Foundation
@testable import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Synchronization
import Testing

/// The subscriber's handler in the service: an event's result goes into the outbox before the
/// handler returns (so before the replay id is stored), a failing store is retried with backoff
/// on the clock while `/ready` says so, and a shutdown while retrying leaves the event for the
/// next start.
@Suite struct EventWorkerTests {
    /// An outbox store whose enqueues fail while `failures` lasts (a full disk, PostgreSQL
    /// restarting); everything else goes to the in-memory store.
    final class FlakyStore: OutboxStore {
        let inner: InMemoryOutboxStore
        let failures: Mutex<Int>

        init(clock: any ResilienceClock, failures: Int) {
            inner = InMemoryOutboxStore(clock: clock)
            self.failures = Mutex(failures)
        }

        struct DiskFull: Error {}

        func enqueue(_ entries: [OutboxEntry]) async throws {
            let fail = failures.withLock { left in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            if fail { throw DiskFull() }
            await inner.enqueue(entries)
        }
        func pending(limit: Int) async throws -> [OutboxEntry] { await inner.pending(limit: limit) }
        func claim(limit: Int, lease: Duration, groupsTogether: Bool) async throws -> OutboxClaimBatch {
            await inner.claim(limit: limit, lease: lease, groupsTogether: groupsTogether)
        }
        func release(_ claims: [OutboxClaim]) async throws { await inner.release(claims) }
        func acknowledge(_ claims: [OutboxClaim]) async throws -> [String] { await inner.acknowledge(claims) }
        func recordAttempt(_ claims: [OutboxClaim]) async throws { await inner.recordAttempt(claims) }
        func deadLetter(_ letters: [DeadLetter]) async throws -> [String] { await inner.deadLetter(letters) }
        func backlog() async throws -> (count: Int, oldest: Date?) { await inner.backlog() }
    }

    func worker(_ store: FlakyStore, clock: VirtualClock, health: HealthState) -> EventWorker {
        let subscriber = PubSubSubscriber(topic: "/event/Payment_Requested__e", connection: InMemoryPubSub(clock: clock),
                                          tokens: TokenStore(provider: StaticTokenProvider(accessToken: "t"), clock: clock), store: InMemoryReplayStore(),
                                          clock: clock)
        return EventWorker(subscriber: subscriber, store: store, options: EventOptions(), clock: clock,
                           logger: .init(label: "test"), health: health)
    }

    static let event = PaymentRequestsTests.event(["Reference__c": .string("PAY-1"), "Amount__c": .double(12)], id: "EVT-1")

    @Test func aFailingStoreIsRetriedWithBackoffUntilItTakesTheResult() async throws {
        let clock = VirtualClock(mode: .manual)
        let store = FlakyStore(clock: clock, failures: 3)
        let health = HealthState()
        let worker = worker(store, clock: clock, health: health)
        let handling = Task { try await worker.handle(Self.event) }
        // Backoff 1 s, 2 s, 4 s: the result is taken 7 s in, not before.
        for wait in [1, 2, 4] {
            while clock.nextDeadline == nil { await Task.yield() }
            #expect(health.isRetrying)
            #expect(try await store.backlog().count == 0)
            #expect(clock.nextDeadline.map { $0 - clock.now } == .seconds(wait))
            await clock.advance(by: .seconds(wait))
        }
        try await handling.value
        #expect(clock.elapsed == .seconds(7))
        #expect(try await store.pending(limit: 10).map(\.externalId) == ["EVT-1"])
        #expect(!health.isRetrying, "recovered")
        #expect(worker.handled == 1)
    }

    @Test func aShutdownWhileRetryingLeavesTheEventForTheNextStart() async throws {
        let clock = VirtualClock(mode: .manual)
        let store = FlakyStore(clock: clock, failures: 100)
        let worker = worker(store, clock: clock, health: HealthState())
        let handling = Task { try await worker.handle(Self.event) }
        while clock.nextDeadline == nil { await Task.yield() }
        handling.cancel()
        await #expect(throws: CancellationError.self) { try await handling.value }
        #expect(try await store.backlog().count == 0)
        #expect(worker.handled == 0, "not handled: the subscriber does not store its replay id, and it comes again")
    }
}
