#if PubSubGRPC
import Foundation
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPC
import SalesforceResiliencePubSubGRPCTesting
import SalesforceResilienceTesting
import Testing

/// The gRPC connection against the loopback `eventbus.v1.PubSub` server over real HTTP/2: what
/// goes on the wire (metadata, the first `FetchRequest`, flow control), how statuses come back,
/// and a subscriber that survives drops, TCP resets, an expired session, silence and a
/// half-open connection. Virtual time drives the bus's keepalives and the subscriber's waits;
/// the tests wait (never sleep) for bytes on loopback.
@Suite struct GRPCPubSubConnectionTests {
    static let topic = "/event/Payment_Requested__e"
    static let org = "00Dxx0000001gPLEAY"
    static let schemaJSON = """
        {"type": "record", "name": "Payment_Requested__e", "namespace": "com.sforce.eventbus", "fields": [
          {"name": "Reference__c", "type": "string"}]}
        """

    /// A new token on every fetch, each with the org in its identity URL.
    final class Provider: TokenProvider {
        let fetches = Lock(0)
        func fetchToken() async throws -> AccessToken {
            let n = fetches.withLock { count in count += 1; return count }
            return AccessToken(value: "token-\(n)", instanceURL: URL(string: "https://acme.my.salesforce.com"),
                               identityURL: "https://login.salesforce.com/id/\(GRPCPubSubConnectionTests.org)/005xx000001X8Uz")
        }
    }

    struct Harness {
        let clock: VirtualClock
        let bus: InMemoryPubSub
        let server: PubSubGRPCServer
        let relay: LoopbackTCPRelay
        let connection: GRPCPubSubConnection
        let provider = Provider()
        let tokens: TokenStore
        let store = InMemoryReplayStore()

        init(mode: VirtualClock.Mode = .autoAdvance, keepalive: (time: Duration, timeout: Duration)? = nil) async throws {
            clock = VirtualClock(mode: mode)
            bus = InMemoryPubSub(clock: clock)
            bus.register(schemaID: "S1", json: GRPCPubSubConnectionTests.schemaJSON)
            server = try await PubSubGRPCServer(serving: bus, tenantID: GRPCPubSubConnectionTests.org)
            relay = try LoopbackTCPRelay(to: UInt16(server.port))
            connection = try GRPCPubSubConnection(configuration: .init(host: "127.0.0.1", port: Int(relay.port), usesTLS: false, keepalive: keepalive))
            tokens = TokenStore(provider: provider, clock: clock)
        }

        func publish(_ range: ClosedRange<Int>) throws {
            let schema = try AvroSchema(json: GRPCPubSubConnectionTests.schemaJSON)
            for n in range {
                let value = AvroValue.record(AvroRecord(name: "com.sforce.eventbus.Payment_Requested__e", names: ["Reference__c"], values: [.string("PAY-\(n)")]))
                bus.publish(topic: GRPCPubSubConnectionTests.topic, id: "E-\(n)", schemaID: "S1", payload: try AvroEncoder().encode(value, as: schema))
            }
        }

        func subscriber(_ options: SubscriptionOptions = SubscriptionOptions(batchSize: 100, startWithoutCheckpoint: .earliest),
                        events: Lock<[SubscriptionEvent]> = Lock([])) -> PubSubSubscriber {
            PubSubSubscriber(topic: GRPCPubSubConnectionTests.topic, connection: connection, tokens: tokens, store: store, options: options,
                             clock: clock, random: RandomSource(seed: 11), onEvent: { event in events.withLock { $0.append(event) } })
        }

        /// Closes the client first, so that no stream opens while the server shuts down (a
        /// stream that arrives as a NIO server closes trips `NIOAsyncWriter`'s precondition).
        func close() async {
            await connection.shutdown()
            relay.stop()
            await server.stop()
        }
    }

    /// Waits for `condition`, checking as bytes arrive; `false` after `limit` of real time.
    static func eventually(_ limit: Duration = .seconds(20), _ condition: () async -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now + limit
        while clock.now < end {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return await condition()
    }

    @Test func theSessionAndTheFirstRequestGoOnTheWireAsTheServiceExpects() async throws {
        let h = try await Harness(mode: .manual)
        try h.publish(1...10)
        let token = try await h.tokens.token()
        let stream = try await h.connection.subscribe(topic: Self.topic, from: .custom(InMemoryPubSub.replayID(4)), token: token)
        try await stream.request(3)
        let response = try #require(try await stream.next())
        #expect(response.events.map(\.id) == ["E-6", "E-7", "E-8"], "after replay id 4 (the fifth event)")
        #expect(response.events.map(\.replayID) == (5...7).map(InMemoryPubSub.replayID))
        #expect(response.latestReplayID == InMemoryPubSub.replayID(7))
        #expect(response.pendingNumRequested == 0)
        try await stream.request(2)
        #expect(try await stream.next()?.events.map(\.id) == ["E-9", "E-10"])
        stream.cancel()
        #expect(h.server.requestedCounts == [3, 2])
        #expect(h.bus.subscriptions == [.custom(InMemoryPubSub.replayID(4))])
        #expect(h.server.sessions.allSatisfy { $0.tenantID == Self.org && $0.instanceURL == "https://acme.my.salesforce.com" })
        #expect(try await h.connection.schema(id: "S1", token: token) == Self.schemaJSON)
        let topic = try await h.connection.topic(named: Self.topic, token: token)
        #expect(topic.canSubscribe)
        await h.close()
    }

    @Test func refusalsComeBackAsTheSubscribersDecisions() async throws {
        let h = try await Harness(mode: .manual)
        try h.publish(1...20)
        let token = try await h.tokens.token()

        h.bus.retainOnly(last: 5, of: Self.topic)
        let aged = try await h.connection.subscribe(topic: Self.topic, from: .custom(InMemoryPubSub.replayID(2)), token: token)
        try await aged.request(1)
        let agedError = await #expect(throws: PubSubError.self) { try await aged.next() }
        #expect(agedError?.kind == .replayIDInvalid)
        #expect(agedError?.message.contains(PubSubStatus.replayIDCorrupted) == true, "\(String(describing: agedError))")

        #expect(await Self.kind { _ = try await h.connection.schema(id: "nope", token: token) } == .permanent)

        // A session that expires on an open stream (the bus expires the tokens in use).
        let expired = try await h.connection.subscribe(topic: Self.topic, from: .earliest, token: token)
        try await expired.request(1)
        #expect(try await expired.next()?.events.count == 1)
        h.bus.expireSessions()
        try await expired.request(1)
        #expect(await Self.kind { _ = try await expired.next() } == .authentication)
        #expect(await Self.kind { _ = try await h.connection.schema(id: "S1", token: token) } == .authentication)

        let stranger = AccessToken(value: "t", instanceURL: URL(string: "https://acme.my.salesforce.com"), identityURL: "https://login.salesforce.com/id/00Dother/005x")
        #expect(await Self.kind { _ = try await h.connection.schema(id: "S1", token: stranger) } == .authentication, "another org's session")
        let noOrg = AccessToken(value: "t", instanceURL: URL(string: "https://acme.my.salesforce.com"))
        #expect(await Self.kind { _ = try await h.connection.subscribe(topic: Self.topic, from: .latest, token: noOrg) } == .permanent,
                "no tenant id to send is a configuration error, found before the wire")

        // Nothing listens any more: the connection is refused. (The relay goes, not the gRPC
        // server: a server shutting down while a stream opens can trip NIO's own assertions.)
        h.relay.resetConnections()
        h.relay.stop()
        let gone = try await h.connection.subscribe(topic: Self.topic, from: .earliest, token: try await h.tokens.token())
        try await gone.request(1)
        #expect(await Self.kind { _ = try await gone.next() } == .unavailable)
        await h.close()
    }

    static func kind(_ body: () async throws -> Void) async -> PubSubError.Kind? {
        do {
            try await body()
            return nil
        } catch let error as PubSubError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func aSubscriberOverTheWireHandlesEveryEventOnceThroughDropsResetsAndAnExpiredSession() async throws {
        let h = try await Harness()
        try h.publish(1...3_000)
        h.bus.failNextStream(afterDelivering: 450)
        let handled = Lock([String]())
        let relay = h.relay
        let bus = h.bus
        let subscriber = h.subscriber()
        let run = Task {
            try await subscriber.run { event in
                let count = handled.withLock { handled in
                    handled.append(event.id)
                    return handled.count
                }
                if count == 900 { bus.dropOpenStreams() }
                if count == 1_500 { relay.resetConnections() }
                if count == 2_100 { bus.expireSessions() }
            }
        }
        let done = await Self.eventually { handled.withLock { $0.count } >= 3_000 }
        run.cancel()
        _ = try? await run.value
        #expect(done)
        #expect(handled.withLock { $0 } == (1...3_000).map { "E-\($0)" }, "each once, in order")
        #expect(await h.store.checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(2_999))
        #expect(h.provider.fetches.withLock { $0 } == 2, "one refresh for the expired session")
        #expect(h.relay.connectionsAccepted >= 2, "a new connection after the reset")
        #expect(await subscriber.status.resubscribes >= 3)
        #expect(h.bus.maxPending <= 100, "never more than a batch asked for")
        #expect(h.server.schemaCalls == 1, "the schema is fetched once")
        await h.close()
    }

    @Test func aSilentStreamOverTheWireIsRebuiltAfterTheWindow() async throws {
        let h = try await Harness(mode: .manual)
        try h.publish(1...10)
        h.bus.silenceNextStream()
        let handled = Lock(0)
        let events = Lock([SubscriptionEvent]())
        let subscriber = h.subscriber(SubscriptionOptions(batchSize: 100, startWithoutCheckpoint: .earliest, silenceWindow: .seconds(120),
                                                          resubscribeBackoff: Backoff(initial: .milliseconds(1), multiplier: 1, maximum: .milliseconds(1))), events: events)
        let run = Task { try await subscriber.run { _ in handled.withLock { $0 += 1 } } }
        #expect(await Self.eventually { h.server.requestedCounts.count == 1 && h.bus.isQuiet && h.clock.timerCount == 1 })
        await h.clock.advance(by: .seconds(119))
        #expect(handled.withLock { $0 } == 0 && h.server.subscribeCalls == 1, "still inside the window")
        await h.clock.advance(by: .seconds(1))
        // The resubscription's backoff (under a millisecond, jittered) on the same clock.
        #expect(await Self.eventually { h.clock.sleeperCount == 1 })
        await h.clock.advance(by: .seconds(1))
        #expect(await Self.eventually { handled.withLock { $0 } == 10 })
        run.cancel()
        _ = try? await run.value
        let status = await subscriber.status
        #expect(h.server.subscribeCalls == 2, "\(events.withLock { $0 }) \(h.server.requestedCounts) \(status)")
        #expect(await subscriber.status.silentStreamsRebuilt == 1)
        await h.close()
    }

    /// The 60 s rule over the wire: while the handler spends 90 s on one event, the request for
    /// the next has already reached the server, so the service's idle limit never closes the
    /// stream (the in-memory bus closes one with nothing pending after 60 s, as the service does).
    @Test func aHandlerThatTakesNinetySecondsKeepsItsStreamOverTheWire() async throws {
        let h = try await Harness(mode: .manual)
        try h.publish(1...3)
        let clock = h.clock
        let handled = Lock([String]())
        let subscriber = h.subscriber(SubscriptionOptions(batchSize: 1, startWithoutCheckpoint: .earliest))
        let run = Task {
            try await subscriber.run { event in
                if event.id == "E-2" { try await clock.sleep(until: clock.now + .seconds(90)) }
                handled.withLock { $0.append(event.id) }
            }
        }
        // E-2 in hand, E-3 asked for on the wire, the bus with nothing to do.
        #expect(await Self.eventually { handled.withLock { $0 } == ["E-1"] && clock.sleeperCount >= 1 && h.server.requestedCounts.count >= 3 && h.bus.isQuiet }, "\(handled.withLock { $0 }) sleepers \(clock.sleeperCount) timers \(clock.timerCount) requested \(h.server.requestedCounts) quiet \(h.bus.isQuiet)")
        for _ in 0..<3 { await clock.advance(by: .seconds(30)) }
        #expect(await Self.eventually { handled.withLock { $0 }.count == 3 })
        run.cancel()
        _ = try? await run.value
        #expect(handled.withLock { $0 } == ["E-1", "E-2", "E-3"])
        #expect(h.server.subscribeCalls == 1 && h.bus.subscriptions.count == 1, "the stream outlived the 60 s idle limit")
        #expect(clock.elapsed >= .seconds(90))
        await h.close()
    }

    @Test func keepalivePingsFindAHalfOpenConnectionWithoutTheWatchdog() async throws {
        // A connection that drops every byte (both ways) but stays open: only HTTP/2 pings tell.
        // The virtual clock never moves, so the subscriber's watchdog cannot be what notices.
        let h = try await Harness(mode: .manual, keepalive: (.milliseconds(200), .milliseconds(100)))
        try h.publish(1...5)
        let token = try await h.tokens.token()
        let stream = try await h.connection.subscribe(topic: Self.topic, from: .earliest, token: token)
        try await stream.request(5)
        #expect(try await stream.next()?.events.count == 5)
        h.relay.blackhole = true
        try await stream.request(5)
        let failed = await Self.kind { _ = try await stream.next() }
        #expect(failed == .unavailable)
        #expect(h.clock.elapsed == .zero)
        #expect(h.relay.bytesDropped > 0, "a ping went out, and was lost")
        // The client reconnects at once, through the same black hole: a handshake whose bytes
        // were lost never completes, and a graceful shutdown would wait for it forever.
        let closing = ContinuousClock.now
        await h.connection.shutdown(gracePeriod: .milliseconds(200))
        #expect(ContinuousClock.now - closing < .seconds(5), "the grace period bounds the shutdown")
        h.relay.blackhole = false
        await h.close()
    }
}
#endif
