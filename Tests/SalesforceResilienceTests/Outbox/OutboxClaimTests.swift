import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Claims: the root stores keep the store contract, and several drainers in one process
/// deliver every entry once without sending any twice.
@Suite struct OutboxClaimTests {
    @Test(arguments: OutboxStoreConformance.checks)
    func theInMemoryStoreKeepsTheContract(_ check: OutboxStoreConformance.Check) async throws {
        try await check.run { clock in InMemoryOutboxStore(clock: clock) }
    }

    @Test(arguments: OutboxStoreConformance.checks)
    func theFileJournalKeepsTheContract(_ check: OutboxStoreConformance.Check) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString).journal").path
        try await check.run { clock in try FileJournalOutboxStore(path: path, compactAfterBytes: 512, clock: clock) }
    }

    /// Records the external ids of every collections request.
    final class SentRecords: HTTPTransport {
        let inner: any HTTPTransport
        let sent = Lock<[String]>([])
        init(_ inner: any HTTPTransport) { self.inner = inner }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.contains("/composite/sobjects/"), let body = request.body,
               case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: body), case .array(let records)? = object["records"] {
                sent.withLock { $0 += records.compactMap { $0.objectValue?["Reference__c"]?.stringValue } }
            }
            return try await inner.send(request)
        }
    }

    @Test func fourDrainersOnOneStoreSendEachRecordOnce() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let transport = SentRecords(ChaosTransport(wrapping: org, clock: clock, seed: 7, faults: [.latency(.milliseconds(300))]))
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue((1...2_000).map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(1)],
                        enqueuedAt: clock.wallClockNow)
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { try await Outbox(store: store, client: client).drain() }
            }
            try await group.waitForAll()
        }
        let sent = transport.sent.withLock { $0 }
        #expect(sent.count == 2_000 && Set(sent).count == 2_000, "each record sent once: \(sent.count) sent, \(Set(sent).count) distinct")
        #expect(org.countsByValue(of: "Payment__c", field: "Reference__c").count == 2_000)
        #expect(await store.backlog().count == 0)
    }

    @Test func claimsOnTheConcreteStoresHoldTheirEntries() async throws {
        let clock = VirtualClock(mode: .manual)
        let entries = (1...3).map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: [:], enqueuedAt: clock.wallClockNow)
        }
        let memory = InMemoryOutboxStore(clock: clock)
        await memory.enqueue(entries)
        #expect(await memory.claim(limit: 2, lease: .seconds(60), groupsTogether: false).map(\.externalId) == ["PAY-1", "PAY-2"])
        #expect(await memory.claim(limit: 2, lease: .seconds(60), groupsTogether: false).map(\.externalId) == ["PAY-3"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(UUID().uuidString).journal").path
        let journal = try FileJournalOutboxStore(path: path, clock: clock)
        try await journal.enqueue(entries)
        #expect(await journal.claim(limit: 2, lease: .seconds(60), groupsTogether: false).map(\.externalId) == ["PAY-1", "PAY-2"])
        #expect(await journal.claim(limit: 2, lease: .seconds(60), groupsTogether: false).map(\.externalId) == ["PAY-3"])
        await journal.close()
    }

    @Test func aClaimOfMixedTypesSendsOneAndGivesTheRestBack() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue([
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-1", fields: [:], enqueuedAt: clock.wallClockNow),
            OutboxEntry(sobject: "Invoice__c", externalIdField: "Number__c", externalId: "INV-1", fields: [:], enqueuedAt: clock.wallClockNow),
        ])
        let outbox = Outbox(store: store, client: client)
        #expect(try await outbox.drainOnce() == .sent(delivered: 1, deadLettered: 0, retrying: 0))
        // The invoice was claimed with the payment and given back: the next claim takes it at once.
        #expect(await store.claim(limit: 10, lease: .seconds(60), groupsTogether: false).map(\.externalId) == ["INV-1"])
    }

    /// Holds the first collections request until `release()`.
    final class HoldFirstBatch: HTTPTransport {
        let inner: any HTTPTransport
        let arrived: AsyncStream<Void>.Continuation
        private let gate: AsyncStream<Void>
        private let open: AsyncStream<Void>.Continuation
        private let held = Lock(false)

        init(_ inner: any HTTPTransport, arrived: AsyncStream<Void>.Continuation) {
            self.inner = inner
            self.arrived = arrived
            (gate, open) = AsyncStream<Void>.makeStream()
        }

        func release() { open.finish() }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            let first = request.method == .patch && held.withLock { held in defer { held = true }; return !held }
            if first {
                arrived.finish()
                for await _ in gate {}
            }
            return try await inner.send(request)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aDrainerWhoseWorkOthersHoldWaitsTheIdleIntervalInsteadOfSpinning() async throws {
        let clock = VirtualClock(mode: .manual)
        let org = SalesforceSimulator(clock: clock)
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let transport = HoldFirstBatch(org, arrived: arrival)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let shared = InMemoryOutboxStore(clock: clock)
        await shared.enqueue((1...50).map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: [:], enqueuedAt: clock.wallClockNow)
        })
        let first = Task { try await Outbox(store: shared, client: client).drain() }
        for await _ in arrived {}  // the first drainer holds every entry, its batch in flight

        // The second drainer's claims, counted.
        let claims = Lock(0)
        let second = InterceptedOutboxStore(inner: shared) { call in if call == .claim { claims.withLock { $0 += 1 } } }
        let waiting = Task { try await Outbox(store: second, client: client, options: OutboxOptions(idleInterval: .seconds(1))).drain() }
        #expect(await clock.waitForSleepers(1))
        #expect(claims.withLock { $0 } == 2, "two empty claims, then a wait: \(claims.withLock { $0 }) claims")
        transport.release()
        try await first.value
        await clock.advance(by: .seconds(1))
        try await waiting.value
        #expect(claims.withLock { $0 } == 3)
        #expect(org.countsByValue(of: "Payment__c", field: "Reference__c").count == 50)
    }
}
