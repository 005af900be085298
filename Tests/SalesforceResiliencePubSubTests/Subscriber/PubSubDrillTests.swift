#if PubSub
import Foundation
@testable import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Testing

/// The whole loop in one process, on a virtual clock: 10,000 payment requests come in as events,
/// each is worked and its result goes out through the outbox (upsert by the event's id) to a
/// simulated org, through 5 stream drops, 2 silent stalls, a session expiry and a crash
/// mid-batch (the handler's work done, its checkpoint not saved, a new subscriber started on the
/// same stores).
@Suite struct PubSubDrillTests {
    struct Crash: Error {}

    @Test(.timeLimit(.minutes(2))) func tenThousandEventsThroughDropsStallsAnExpiryAndACrashAreEachUpsertedOnce() async throws {
        let h = PubSubSubscriberTests.Harness()
        try h.publish(1...10_000)
        let clock = h.clock
        let bus = h.bus
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let outboxStore = InMemoryOutboxStore(clock: clock)
        let outbox = Outbox(store: outboxStore, client: client, random: RandomSource(seed: 3))
        let handledIDs = Lock([String]())
        let crashed = Lock(false)
        let options = SubscriptionOptions(batchSize: 100, startWithoutCheckpoint: .earliest, silenceWindow: .seconds(300))

        let handler: @Sendable (PubSubEvent) async throws -> Void = { event in
            guard let reference = event.value["Reference__c"]?.stringValue else { return }
            // The work's result, out through the outbox: an upsert by the event's id.
            await outboxStore.enqueue([OutboxEntry(sobject: "Payment_Result__c", externalIdField: "Event_Id__c", externalId: event.id,
                                                   fields: ["Reference__c": .string(reference), "Status__c": "Processed"], enqueuedAt: clock.wallClockNow)])
            let count = handledIDs.withLock { ids in
                ids.append(event.id)
                return ids.count
            }
            switch count {
            case 1_000, 3_000, 4_000, 6_500, 8_000: bus.dropOpenStreams()
            case 2_000, 7_000: bus.silenceOpenStreams()
            case 9_000: bus.expireSessions()
            case 5_000 where !crashed.withLock({ $0 }):
                // Killed after the work, before the checkpoint: this event must come again.
                crashed.withLock { $0 = true }
                throw Crash()
            default: break
            }
        }

        // Time moves only when the bus has no reader busy (every open stream's reader is
        // waiting with nothing to deliver, or none is open) and nothing has progressed for a
        // while: a busy subscriber never sees its silence window pass, a stalled one does.
        let first = h.subscriber(options)
        let restarted = h.subscriber(options)
        let run = Task {
            do {
                try await first.run(handler)
                Issue.record("the first subscriber ended without its crash")
            } catch is Crash {}
            try await restarted.run(handler)
        }
        func progress() -> [Int] { [handledIDs.withLock { $0.count }, bus.delivered, bus.subscriptions.count] }
        var last = progress()
        while await h.store.checkpoint(for: PubSubSubscriberTests.topic)?.replayID != InMemoryPubSub.replayID(9_999) {
            var quiet = 0
            while quiet < 1_000 {
                await Task.yield()
                let now = progress()
                quiet = now == last && bus.isQuiet ? quiet + 1 : 0
                last = now
            }
            guard clock.elapsed < .seconds(7_200) else {
                Issue.record("stuck after \(last)")
                break
            }
            if let next = clock.nextDeadline { await clock.advance(to: next) }
        }
        run.cancel()
        _ = try? await run.value
        let stats = (await first.status, await restarted.status)
        // The results go out: every entry the handler queued, by collections.
        try await outbox.drain()

        let ids = handledIDs.withLock { $0 }
        #expect(Set(ids).count == 10_000, "every event handled")
        #expect(ids.count == 10_001 && ids.filter { $0 == "E-5000" }.count == 2, "only the event in hand at the crash came twice")
        let results = org.countsByValue(of: "Payment_Result__c", field: "Event_Id__c")
        #expect(results.count == 10_000 && results.values.allSatisfy { $0 == 1 }, "one result per event in the org, no duplicate")
        #expect(await h.store.checkpoint(for: PubSubSubscriberTests.topic)?.replayID == InMemoryPubSub.replayID(9_999))
        // Streams: the first, 3 drops and a stall before the crash; the restart; 2 drops, a stall
        // and the session expiry after it.
        #expect(bus.subscriptions.count == 10, "\(bus.subscriptions.count) subscriptions: \(h.events.withLock { $0 }.map { "\($0.0) \($0.1)" }.joined(separator: "\n"))")
        #expect(stats.0.resubscribes + stats.1.resubscribes == 7)
        #expect(stats.0.silentStreamsRebuilt + stats.1.silentStreamsRebuilt == 2)
        #expect(h.provider.fetches.withLock { $0 } == 2, "one token refresh for the expiry")
        #expect(bus.maxPending <= 100)
    }
}
#endif
