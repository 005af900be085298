import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Concurrent batches: helpers join the drain while batches go out full and clean, the client's
/// collections slots bound every caller together, and an outage is met one batch at a time.
@Suite struct OutboxConcurrencyTests {
    /// An org whose collections calls take 300 ms on the clock (every record locked in the calls
    /// numbered `failing`), counting how many are in flight at once.
    final class SlowOrg: HTTPTransport {
        let org: SalesforceSimulator
        let clock: VirtualClock
        let failing: ClosedRange<Int>
        /// A call answered 400 for the whole request: a batch retrying cannot fix.
        let rejecting: Int?
        let counts = Lock<(calls: Int, inFlight: Int, most: Int)>((0, 0, 0))
        /// When each collections call started, on the clock.
        let starts = Lock<[Duration]>([])
        /// For each failing call: its number and the calls in flight when it started (itself included).
        let failures = Lock<[(call: Int, inFlight: Int)]>([])
        init(clock: VirtualClock, failing: ClosedRange<Int> = 0...0, rejecting: Int? = nil) {
            self.clock = clock
            self.failing = failing
            self.rejecting = rejecting
            self.org = SalesforceSimulator(clock: clock)
        }
        var honoursRequestTimeout: Bool { true }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            guard request.url.path.contains("/composite/sobjects/") else { return try await org.send(request) }
            starts.withLock { $0.append(clock.elapsed) }
            let (call, inFlight) = counts.withLock { counts in
                counts.calls += 1
                counts.inFlight += 1
                counts.most = max(counts.most, counts.inFlight)
                return (counts.calls, counts.inFlight)
            }
            defer { counts.withLock { $0.inFlight -= 1 } }
            try await clock.sleep(for: .milliseconds(300))
            if call == rejecting {
                return .salesforceError(400, code: "INVALID_FIELD", message: "No such column 'Amount__c' on entity 'Payment__c'")
            }
            if failing.contains(call) {
                // Every record locked: the request succeeds, so no breaker sees it.
                failures.withLock { $0.append((call, inFlight)) }
                let body = try JSONSerialization.jsonObject(with: request.body ?? Data()) as? [String: Any]
                let records = (body?["records"] as? [Any])?.count ?? 0
                let locked = #"{"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record","fields":[]}]}"#
                return .json(200, "[" + Array(repeating: locked, count: records).joined(separator: ",") + "]")
            }
            return try await org.send(request)
        }
    }

    func payments(_ count: Int, from first: Int = 1) -> [OutboxEntry] {
        (first..<(first + count)).map {
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\($0)", fields: ["Amount__c": .number(Double($0))],
                        enqueuedAt: VirtualClock.defaultStartDate)
        }
    }

    func client(_ org: SlowOrg, clock: VirtualClock, limit: Int = 10) throws -> SalesforceClient {
        var configuration = SalesforceConfiguration(instanceURL: org.org.options.instanceURL)
        configuration.collectionsCallLimit = limit
        configuration.collectionsConcurrency = 5
        return try SalesforceClient(configuration: configuration, transport: org, tokenProvider: org.org.clientCredentialsProvider(), clock: clock)
    }

    @Test func aHealthyBacklogGoesOutSeveralBatchesAtOnceAfterTheFirstComesBackClean() async throws {
        let clock = VirtualClock(mode: .manual)
        let org = SlowOrg(clock: clock)
        let client = try client(org, clock: clock)
        _ = try await client.tokens.token()
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue(payments(100))
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(batchSize: 10, concurrentBatches: 4))
        let done = Lock(false)
        let drain = Task {
            defer { done.withLock { $0 = true } }
            try await outbox.drain()
        }
        // The lead alone first; then it and three helpers; 100 records in batches of 10: 1 + 4 + 4 + 1.
        for expected in [1, 4, 4] {
            #expect(await clock.waitForSleepers(expected))
            #expect(clock.sleeperCount == expected)
            await clock.advance(by: .milliseconds(300))
        }
        // The last batch, and drainers that found the rest taken waiting their idle interval.
        for _ in 0..<100 where !done.withLock({ $0 }) {
            await clock.advance(by: .milliseconds(100))
            for _ in 0..<100 { await Task.yield() }
        }
        try await drain.value
        let ms = { (n: Int) in Duration.milliseconds(n) }
        #expect(org.starts.withLock { $0 } == [ms(0)] + Array(repeating: ms(300), count: 4) + Array(repeating: ms(600), count: 4) + [ms(900)],
                "ten batches in four rounds of 300 ms, not ten rounds")
        #expect(org.counts.withLock { $0.most } == 4)
        let counts = org.org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(counts.count == 100 && counts.values.allSatisfy { $0 == 1 })
    }

    @Test func theClientsCollectionsSlotsBoundEveryCallerTogether() async throws {
        // Time moves only when every caller has gone quiet: what is in flight at once does not
        // depend on how busy the machine is.
        let clock = VirtualClock(mode: .manual)
        let org = SlowOrg(clock: clock)
        let client = try client(org, clock: clock, limit: 3)
        let first = InMemoryOutboxStore(clock: clock)
        let second = InMemoryOutboxStore(clock: clock)
        await first.enqueue(payments(400))
        await second.enqueue(payments(400, from: 1_001))
        let options = OutboxOptions(batchSize: 20, concurrentBatches: 8)
        let direct = (2_001...3_000).map { ["Reference__c": JSONValue.string("PAY-\($0)"), "Amount__c": .number(1)] }
        try await clock.drive(quietTurns: 50) {
            async let a: Void = Outbox(store: first, client: client, options: options).drain()
            async let b: Void = Outbox(store: second, client: client, options: options).drain()
            async let c = client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: direct)
            _ = try await (a, b, c)
        }
        #expect(org.counts.withLock { $0.most } <= 3, "never more collections calls in flight than the client's limit")
        #expect(client.collectionsSlots.highWater == 3)
        #expect(org.org.records(of: "Payment__c").count == 1_800)
    }

    @Test func anOutageIsMetOneBatchAtATime() async throws {
        let clock = VirtualClock(mode: .manual)
        // Call 1 comes back clean and full, so seven helpers join; in calls 2–14 every record is
        // locked (UNABLE_TO_LOCK_ROW): transient, and invisible to the breaker.
        let org = SlowOrg(clock: clock, failing: 2...14)
        let client = try client(org, clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue(payments(400))
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(batchSize: 10, concurrentBatches: 8))
        try await clock.drive { try await outbox.drain() }
        let failures = org.failures.withLock { $0 }
        #expect(failures.count == 13)
        #expect((failures.filter { $0.call <= 9 }.map(\.inFlight).max() ?? 0) > 1, "the helpers were in flight when the outage began")
        #expect(failures.filter { $0.call > 9 }.allSatisfy { $0.inFlight == 1 }, "after the first failures, one batch at a time: \(failures)")
        #expect(await outbox.deadLettered == 0)
        #expect(org.counts.withLock { $0.most } == 8)
        let counts = org.org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(counts.count == 400 && counts.values.allSatisfy { $0 == 1 })
    }

    @Test func aHelpersFatalErrorEndsTheWholeDrainAtOnce() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SlowOrg(clock: clock, rejecting: 3)  // a helper's batch in the second round
        let client = try client(org, clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue(payments(400))
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(batchSize: 10, concurrentBatches: 4))
        await #expect(throws: OutboxError.self) { try await outbox.drain() }
        let calls = org.counts.withLock { $0.calls }
        #expect(calls <= 8, "the drain went on after a batch was rejected as a whole: \(calls) calls")
        #expect(await store.backlog().count >= 330)
    }

    @Test func aWaiterForASlotThatIsCancelledLeavesWithoutTakingOne() async throws {
        let slots = CallSlots(limit: 1)
        let (held, release) = AsyncStream.makeStream(of: Void.self)
        let holder = Task { try await slots.withSlot { for await _ in held { break } } }
        while slots.inUse == 0 { await Task.yield() }
        let waiter = Task { try await slots.withSlot { "ran" } }
        for _ in 0..<100 { await Task.yield() }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        release.yield()
        try await holder.value
        #expect(slots.inUse == 0)
        #expect(try await slots.withSlot { "free" } == "free")
    }
}
