#if PubSub
import Foundation
@testable import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Testing

/// The subscriber against the in-process bus, on a virtual clock that moves only when every task
/// is quiet: order and checkpoints, flow control, drops, silence, session expiry, aged-out
/// replay ids, redelivery and a handler slower than the service's idle limit.
@Suite struct PubSubSubscriberTests {
    static let topic = "/event/Payment_Requested__e"
    static let schemaJSON = """
        {"type": "record", "name": "Payment_Requested__e", "namespace": "com.sforce.eventbus", "fields": [
          {"name": "Reference__c", "type": "string"}, {"name": "Amount__c", "type": ["null", "double"]}]}
        """

    /// Hands out a new token on every fetch, and counts them.
    final class CountingProvider: TokenProvider {
        let fetches = Lock(0)
        func fetchToken() async throws -> AccessToken {
            let n = fetches.withLock { count in count += 1; return count }
            return AccessToken(value: "token-\(n)", instanceURL: URL(string: "https://acme.my.salesforce.com"))
        }
    }

    struct Harness {
        let clock = VirtualClock(mode: .manual)
        let bus: InMemoryPubSub
        let store = InMemoryReplayStore()
        let provider = CountingProvider()
        let tokens: TokenStore
        let handled = Lock([String]())
        let events = Lock([(Duration, SubscriptionEvent)]())

        init() {
            bus = InMemoryPubSub(clock: clock)
            tokens = TokenStore(provider: provider, clock: clock)
            bus.register(schemaID: "S1", json: PubSubSubscriberTests.schemaJSON)
        }

        func publish(_ range: ClosedRange<Int>) throws {
            let schema = try AvroSchema(json: PubSubSubscriberTests.schemaJSON)
            for n in range {
                let value = AvroValue.record(AvroRecord(name: "com.sforce.eventbus.Payment_Requested__e", names: ["Reference__c", "Amount__c"],
                                                        values: [.string("PAY-\(n)"), .double(Double(n))]))
                bus.publish(topic: PubSubSubscriberTests.topic, id: "E-\(n)", schemaID: "S1", payload: try AvroEncoder().encode(value, as: schema))
            }
        }

        func subscriber(_ options: SubscriptionOptions = SubscriptionOptions(startWithoutCheckpoint: .earliest)) -> PubSubSubscriber {
            let clock = self.clock
            let events = self.events
            return PubSubSubscriber(topic: PubSubSubscriberTests.topic, connection: bus, tokens: tokens, store: store, options: options,
                                    clock: clock, random: RandomSource(seed: 7), onEvent: { event in events.withLock { $0.append((clock.elapsed, event)) } })
        }

        /// Runs `subscriber` with a handler that records references, until `done` holds or `limit`
        /// of virtual time passes; returns how the run ended.
        ///
        /// Time moves (to the clock's next deadline) only when the subscriber is blocked: every
        /// open stream's reader waits with nothing to deliver (or none is open, as in a backoff)
        /// and nothing has progressed for a while; or nothing at all has progressed for much
        /// longer (a handler asleep on the clock). A subscriber busy with its events never sees
        /// its silence window pass, however loaded the machine.
        func run(_ subscriber: PubSubSubscriber, limit: Duration = .seconds(3_600),
                 handler: @escaping @Sendable (PubSubEvent) async throws -> Void = { _ in },
                 until done: @escaping @Sendable () async -> Bool) async throws -> (any Error)? {
            let handled = self.handled
            let bus = self.bus
            let finished = Lock(false)
            let task = Task {
                defer { finished.withLock { $0 = true } }
                try await subscriber.run { event in
                    try await handler(event)
                    handled.withLock { $0.append(event.value["Reference__c"]?.stringValue ?? "?") }
                }
            }
            func progress() -> [Int] { [handled.withLock { $0.count }, bus.delivered, bus.subscriptions.count] }
            var last = progress()
            let start = clock.now
            while clock.now - start < limit, !finished.withLock({ $0 }) {
                if await done() { break }
                var quiet = 0
                var still = 0
                while quiet < 1_000 && still < 50_000 && !finished.withLock({ $0 }) {
                    await Task.yield()
                    let now = progress()
                    still = now == last ? still + 1 : 0
                    quiet = now == last && bus.isQuiet ? quiet + 1 : 0
                    last = now
                }
                if await done() || finished.withLock({ $0 }) { break }
                if let next = clock.nextDeadline { await clock.advance(to: next) }
            }
            task.cancel()
            do { try await task.value } catch { return error }
            return nil
        }

        func references(_ range: ClosedRange<Int>) -> [String] { range.map { "PAY-\($0)" } }
    }

    @Test func everyEventIsHandledInOrderWithBoundedFlowControlAndCheckpointed() async throws {
        let h = Harness()
        try h.publish(1...250)
        let outstanding = Lock(0)
        let bus = h.bus
        let handled = h.handled
        let subscriber = h.subscriber(SubscriptionOptions(batchSize: 50, startWithoutCheckpoint: .earliest))
        _ = try await h.run(subscriber, handler: { _ in
            // Delivered but not yet handled: at most the batch in hand and the next one.
            let held = bus.delivered - handled.withLock { $0.count }
            outstanding.withLock { $0 = max($0, held) }
        }, until: { h.handled.withLock { $0.count } == 250 })
        #expect(h.handled.withLock { $0 } == h.references(1...250))
        #expect(h.bus.maxPending <= 50)
        #expect(outstanding.withLock { $0 } <= 100)
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(249))
        #expect(await subscriber.status.handled == 250)
        #expect(h.bus.subscriptions == [.earliest])
    }

    @Test func aDroppedStreamResumesFromTheCheckpointWithinTwoSecondsAndLosesNothing() async throws {
        let h = Harness()
        try h.publish(1...100)
        h.bus.failNextStream(afterDelivering: 30)
        let subscriber = h.subscriber()
        _ = try await h.run(subscriber, until: { h.handled.withLock { $0.count } >= 100 })
        #expect(h.handled.withLock { $0 } == h.references(1...100), "every event once, in order")
        #expect(h.bus.subscriptions == [.earliest, .custom(InMemoryPubSub.replayID(29))])
        let resubscribing = h.events.withLock { $0 }.compactMap { _, event -> Duration? in
            if case .resubscribing(_, _, let delay) = event { return delay }
            return nil
        }
        #expect(resubscribing.count == 1 && resubscribing[0] <= .seconds(2), "\(resubscribing)")
        #expect(await subscriber.status.resubscribes == 1)
    }

    @Test func aSilentStreamIsRebuiltWithinTheWindow() async throws {
        let h = Harness()
        try h.publish(1...20)
        h.bus.silenceNextStream()
        let subscriber = h.subscriber(SubscriptionOptions(startWithoutCheckpoint: .earliest, silenceWindow: .seconds(120)))
        _ = try await h.run(subscriber, until: { h.handled.withLock { $0.count } >= 20 })
        #expect(h.handled.withLock { $0 } == h.references(1...20))
        let rebuiltAt = h.events.withLock { $0 }.compactMap { at, event -> Duration? in
            if case .resubscribing = event { return at }
            return nil
        }
        #expect(rebuiltAt.count == 1 && rebuiltAt[0] >= .seconds(120) && rebuiltAt[0] <= .seconds(121), "\(rebuiltAt)")
        #expect(await subscriber.status.silentStreamsRebuilt == 1)
    }

    @Test func anExpiredSessionIsRefreshedOnceAndTheStreamResumes() async throws {
        let h = Harness()
        try h.publish(1...10)
        let bus = h.bus
        let subscriber = h.subscriber(SubscriptionOptions(batchSize: 1, startWithoutCheckpoint: .earliest))
        let expired = Lock(false)
        _ = try await h.run(subscriber, handler: { event in
            // The session ends while the fifth event is handled.
            guard event.id == "E-5" else { return }
            let first = expired.withLock { done -> Bool in
                defer { done = true }
                return !done
            }
            if first { bus.expireSessions() }
        }, until: { h.handled.withLock { $0.count } >= 10 })
        #expect(h.handled.withLock { $0 } == h.references(1...10))
        #expect(h.provider.fetches.withLock { $0 } == 2, "one refresh")
        #expect(h.bus.subscriptions.count == 2 && h.bus.subscriptions.last == .custom(InMemoryPubSub.replayID(4)))
    }

    @Test func aSessionRefusedAgainAfterARefreshStopsTheRun() async throws {
        let h = Harness()
        try h.publish(1...3)
        final class Refusing: PubSubConnection {
            func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream {
                throw PubSubError(.authentication, "UNAUTHENTICATED")
            }
            func schema(id schemaID: String, token: AccessToken) async throws -> String { "" }
        }
        let subscriber = PubSubSubscriber(topic: Self.topic, connection: Refusing(), tokens: h.tokens, store: h.store, clock: h.clock)
        let ended = try await h.run(subscriber, until: { false })
        #expect((ended as? SubscriptionError).map { if case .authenticationFailed = $0 { true } else { false } } == true, "\(String(describing: ended))")
        #expect(h.provider.fetches.withLock { $0 } == 2)
    }

    /// Refuses every subscription as the service does during an outage, and counts them.
    final class Down: PubSubConnection {
        let attempts = Lock(0)
        func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream {
            attempts.withLock { $0 += 1 }
            throw PubSubError(.unavailable, "UNAVAILABLE: service unavailable")
        }
        func schema(id schemaID: String, token: AccessToken) async throws -> String { "" }
    }

    @Test func aBreakerSpacesResubscriptionsByItsProbesDuringAnOutage() async throws {
        let options = SubscriptionOptions(startWithoutCheckpoint: .earliest,
                                          resubscribeBackoff: Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(1)))
        let solo = Harness()
        let alone = Down()
        _ = try await solo.run(PubSubSubscriber(topic: Self.topic, connection: alone, tokens: solo.tokens, store: solo.store, options: options,
                                                clock: solo.clock, random: RandomSource(seed: 3)), limit: .seconds(300), until: { false })
        #expect(alone.attempts.withLock { $0 } > 150, "its own backoff, capped at 1 s: \(alone.attempts.withLock { $0 }) attempts in 300 s")

        let h = Harness()
        let breaker = CircuitBreaker(key: "acme", options: CircuitBreakerOptions(consecutiveFailureThreshold: 3, breakDuration: .seconds(60)), clock: h.clock)
        let down = Down()
        let events = Lock([SubscriptionEvent]())
        let subscriber = PubSubSubscriber(topic: Self.topic, connection: down, tokens: h.tokens, store: h.store, options: options, clock: h.clock,
                                          random: RandomSource(seed: 3), breaker: breaker, onEvent: { event in events.withLock { $0.append(event) } })
        _ = try await h.run(subscriber, limit: .seconds(300), until: { false })
        let tried = down.attempts.withLock { $0 }
        // Three failures open it; then one probe per 60-second break (each failing probe
        // reopens it): 3 + 4 or 5 in 300 s.
        #expect((6...8).contains(tried), "\(tried) attempts")
        let waits = events.withLock { $0 }.filter { if case .resubscribing(_, let reason, _) = $0 { reason.contains("breaker") } else { false } }
        #expect(!waits.isEmpty, "the wait says the breaker is open")
        #expect(breaker.state != .closed)
    }

    @Test func aHealthyStreamClosesTheBreakerAndAHandlerFailureLeavesNoProbeTaken() async throws {
        let h = Harness()
        try h.publish(1...10)
        let breaker = CircuitBreaker(key: "acme", options: CircuitBreakerOptions(consecutiveFailureThreshold: 1, breakDuration: .seconds(5)), clock: h.clock)
        breaker.trip(for: .seconds(5))
        struct Refused: Error {}
        let subscriber = PubSubSubscriber(topic: Self.topic, connection: h.bus, tokens: h.tokens, store: h.store,
                                          options: SubscriptionOptions(startWithoutCheckpoint: .earliest), clock: h.clock, breaker: breaker)
        let ended = try await h.run(subscriber, handler: { event in if event.id == "E-5" { throw Refused() } }, until: { false })
        #expect(ended is Refused)
        #expect(h.handled.withLock { $0 } == h.references(1...4))
        #expect(h.clock.elapsed >= .seconds(5), "it waited for the break to end")
        #expect(breaker.state == .closed, "the probe's stream answered: closed")
        #expect(try breaker.acquire(operation: "next") == false, "nothing left half-open")
    }

    @Test func anAgedOutReplayIDFailsLoudlyByDefault() async throws {
        let h = Harness()
        try h.publish(1...100)
        await h.store.save(ReplayCheckpoint(replayID: InMemoryPubSub.replayID(4), savedAt: Date()), for: Self.topic)
        h.bus.retainOnly(last: 10, of: Self.topic)
        let ended = try await h.run(h.subscriber(), until: { false })
        #expect(ended as? SubscriptionError == .replayIDAgedOut(topic: Self.topic, replayID: InMemoryPubSub.replayID(4)))
        #expect(h.handled.withLock { $0 }.isEmpty)
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(4), "the stored id is left for the operator")
    }

    @Test func anAgedOutReplayIDResumesFromTheEarliestWhenAsked() async throws {
        let h = Harness()
        try h.publish(1...100)
        await h.store.save(ReplayCheckpoint(replayID: InMemoryPubSub.replayID(4), savedAt: Date()), for: Self.topic)
        h.bus.retainOnly(last: 10, of: Self.topic)
        let subscriber = h.subscriber(SubscriptionOptions(agedOutReplay: .resumeFromEarliest))
        _ = try await h.run(subscriber, until: { h.handled.withLock { $0.count } >= 10 })
        #expect(h.handled.withLock { $0 } == h.references(91...100))
        #expect(h.events.withLock { $0 }.contains { _, event in
            event == .replayIDAgedOut(topic: Self.topic, storedReplayID: InMemoryPubSub.replayID(4), resumedFrom: .earliest)
        })
    }

    @Test func eventsRedeliveredAfterTheyWereHandledAreSkipped() async throws {
        let h = Harness()
        try h.publish(1...10)
        // A checkpoint at event 5 that already lists events 6–8 as handled (they were handled,
        // and the process died before the replay id was saved past them).
        await h.store.save(ReplayCheckpoint(replayID: InMemoryPubSub.replayID(4), recentEventIDs: ["E-4", "E-5", "E-6", "E-7", "E-8"], savedAt: Date()),
                               for: Self.topic)
        let subscriber = h.subscriber()
        _ = try await h.run(subscriber, until: { h.handled.withLock { $0.count } >= 2 })
        #expect(h.handled.withLock { $0 } == ["PAY-9", "PAY-10"])
        #expect(await subscriber.status.duplicatesSkipped == 3)
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(9))
    }

    @Test func aHandlerThatTakesNinetySecondsKeepsItsStream() async throws {
        let h = Harness()
        try h.publish(1...3)
        let clock = h.clock
        let subscriber = h.subscriber(SubscriptionOptions(batchSize: 1, startWithoutCheckpoint: .earliest))
        _ = try await h.run(subscriber, handler: { event in
            if event.id == "E-2" { try await clock.sleep(until: clock.now + .seconds(90)) }
        }, until: { h.handled.withLock { $0.count } >= 3 })
        #expect(h.handled.withLock { $0 } == h.references(1...3))
        #expect(h.bus.subscriptions.count == 1, "the stream outlived the service's 60 s idle limit: \(h.bus.subscriptions)")
    }

    @Test func aQuietTopicsCheckpointFollowsTheKeepalives() async throws {
        let h = Harness()
        try h.publish(1...5)
        let subscriber = h.subscriber(SubscriptionOptions(startWithoutCheckpoint: .latest))
        _ = try await h.run(subscriber, until: { await subscriber.status.keepalives >= 1 })
        #expect(h.handled.withLock { $0 }.isEmpty)
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(4))
        #expect(h.clock.elapsed >= .seconds(270) && h.clock.elapsed <= .seconds(272))
    }

    @Test func anUndecodablePayloadStopsTheRunBeforeItsCheckpoint() async throws {
        let h = Harness()
        try h.publish(1...2)
        h.bus.publish(topic: Self.topic, id: "E-3", schemaID: "S1", payload: [0xFF, 0xFF])
        let ended = try await h.run(h.subscriber(), until: { false })
        guard case .undecodable(_, let replayID, _)? = ended as? SubscriptionError else { Issue.record("\(String(describing: ended))"); return }
        #expect(replayID == InMemoryPubSub.replayID(2))
        #expect(h.handled.withLock { $0 } == ["PAY-1", "PAY-2"])
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(1))
        #expect(await h.subscriber().status.state == .starting)
    }
}
#endif
