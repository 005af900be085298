import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The delivery contract at the outbox's level: the newest version of a record wins, transient
/// per-record errors are retried (with a bound), and a batch never outlives its claim.
@Suite struct OutboxDeliveryTests {
    enum StoreKind: String, CaseIterable, Sendable { case memory, journal }

    func makeStore(_ kind: StoreKind, clock: VirtualClock) throws -> any OutboxStore {
        switch kind {
        case .memory: return InMemoryOutboxStore(clock: clock)
        case .journal:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("delivery-\(UUID().uuidString).journal").path
            return try FileJournalOutboxStore(path: path, clock: clock)
        }
    }

    func payment(_ reference: String, _ fields: [String: JSONValue], clock: VirtualClock) -> OutboxEntry {
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: reference, fields: fields, enqueuedAt: clock.wallClockNow)
    }

    @Test(arguments: StoreKind.allCases)
    func anUpdateEnqueuedWhileTheOlderVersionIsInFlightIsDeliveredNotLost(_ kind: StoreKind) async throws {
        let clock = VirtualClock(mode: .manual)
        let org = SalesforceSimulator(clock: clock)
        let (arrived, arrival) = AsyncStream<Void>.makeStream()
        let transport = OutboxClaimTests.HoldFirstBatch(org, arrived: arrival)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let store = try makeStore(kind, clock: clock)
        try await store.enqueue([payment("PAY-1", ["Status__c": "Pending"], clock: clock)])
        let outbox = Outbox(store: store, client: client)
        let first = Task { try await outbox.drainOnce() }
        for await _ in arrived {}  // the Pending version is on its way
        try await store.enqueue([payment("PAY-1", ["Status__c": "Settled"], clock: clock)])
        transport.release()
        #expect(try await first.value == .sent(delivered: 0, deadLettered: 0, retrying: 0))
        #expect(try await store.backlog().count == 1, "the Settled version must still be queued")
        #expect(try await outbox.drainOnce() == .sent(delivered: 1, deadLettered: 0, retrying: 0))
        #expect(org.records(of: "Payment__c").map { $0["Status__c"] } == [.string("Settled")])
        #expect(try await store.backlog().count == 0)
    }

    /// 5 % of the records fail once, with each transient form Salesforce uses per record.
    static let transientFailures: [(code: String, message: String)] = [
        ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: 1234-5678 (-1)"),
        ("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
         "PaymentTrigger: execution of AfterUpdate caused by: System.DmlException: Update failed. First exception on row 0; first error: UNABLE_TO_LOCK_ROW, unable to obtain exclusive access to this record: []"),
        ("CANNOT_EXECUTE_FLOW_TRIGGER", "This error occurred when the flow tried to update records: UNABLE_TO_LOCK_ROW: unable to obtain exclusive access to this record."),
        ("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records"),
        ("DUPLICATE_VALUE", "duplicate value found: Reference__c duplicates value on record with id: a01000000000001"),
    ]

    static func failOnce(_ org: SalesforceSimulator, every step: Int, of count: Int) -> Int {
        var failed = 0
        for n in stride(from: step, through: count, by: step) {
            let failure = transientFailures[failed % transientFailures.count]
            org.failRecord("PAY-\(n)", code: failure.code, message: failure.message)
            failed += 1
        }
        return failed
    }

    @Test func transientPerRecordErrorsAreRetriedAndEveryRecordLands() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        #expect(Self.failOnce(org, every: 20, of: 1_000) == 50)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue((1...1_000).map { payment("PAY-\($0)", ["Amount__c": 1], clock: clock) })
        let outbox = Outbox(store: store, client: client, random: RandomSource(seed: 3))
        try await outbox.drain()
        #expect(org.records(of: "Payment__c").count == 1_000)
        let letters = await store.deadLetters
        #expect(letters.isEmpty, "dead-lettered: \(letters.map(\.reason))")
        #expect(await outbox.delivered == 1_000)
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
    }

    @Test func aRecordThatKeepsFailingTransientlyIsDeadLetteredAfterItsAttemptsAndAPermanentErrorAtOnce() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        org.failRecord("PAY-2", code: "UNKNOWN_EXCEPTION", message: "An unexpected error occurred.", times: 100)
        org.failRecord("PAY-3", code: "FIELD_CUSTOM_VALIDATION_EXCEPTION", message: "Amount must be positive")
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue((1...4).map { payment("PAY-\($0)", ["Amount__c": 1], clock: clock) })
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(recordAttemptLimit: 3), random: RandomSource(seed: 3))
        #expect(try await outbox.drainOnce() == .sent(delivered: 2, deadLettered: 1, retrying: 1))
        try await outbox.drain()
        let letters = await store.deadLetters
        #expect(letters.map(\.entry.externalId) == ["PAY-3", "PAY-2"])
        #expect(letters.last?.reason.hasPrefix("gave up after 3 attempts; last error: UNKNOWN_EXCEPTION") == true, "\(letters.map(\.reason))")
        #expect(org.calls["PATCH collections"] == 3)
        #expect(org.records(of: "Payment__c").count == 2)
    }

    /// Answers every token request only when cancelled (as a login endpoint that stalls).
    final class StallingLogin: HTTPTransport {
        let inner: any HTTPTransport
        let tokenRequests: AsyncStream<Void>.Continuation
        let stalled = Lock(false)
        init(_ inner: any HTTPTransport, tokenRequests: AsyncStream<Void>.Continuation) {
            self.inner = inner
            self.tokenRequests = tokenRequests
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.hasSuffix("/token"), stalled.withLock({ $0 }) {
                tokenRequests.yield()
                let (never, _) = AsyncStream<Void>.makeStream()
                for await _ in never {}
                throw CancellationError()
            }
            return try await inner.send(request)
        }
    }

    @Test(.timeLimit(.minutes(1))) func aBatchStuckOnATokenRefreshEndsBeforeItsLeaseAndGivesItsEntriesBack() async throws {
        let clock = VirtualClock(mode: .manual)
        let org = SalesforceSimulator(clock: clock)
        let (tokenRequests, tokenRequest) = AsyncStream<Void>.makeStream()
        let transport = StallingLogin(org, tokenRequests: tokenRequest)
        let login = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .clientCredentials(clientID: "sim-client", clientSecret: "sim-secret"),
                                       transport: transport, clock: clock, allowHTTPLoopback: true)
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
                                          tokenProvider: login, clock: clock)
        let store = InMemoryOutboxStore(clock: clock)
        await store.enqueue([payment("PAY-1", [:], clock: clock)])
        transport.stalled.withLock { $0 = true }
        let outbox = Outbox(store: store, client: client, options: OutboxOptions(claimLease: .seconds(60)))
        let step = Task { try await outbox.drainOnce() }
        var requests = tokenRequests.makeAsyncIterator()
        _ = await requests.next()
        await clock.advance(by: .seconds(47))
        #expect(await store.claim(limit: 1, lease: .seconds(60), groupsTogether: false).isEmpty, "the batch's lease is still live")
        await clock.advance(by: .seconds(1))  // 48 s: 80 % of the lease
        #expect(try await step.value == .sent(delivered: 0, deadLettered: 0, retrying: 1))
        let again = await store.claim(limit: 1, lease: .seconds(60), groupsTogether: false)
        #expect(again.map(\.externalId) == ["PAY-1"], "the batch gave its entry back before its lease ended")
    }
}
