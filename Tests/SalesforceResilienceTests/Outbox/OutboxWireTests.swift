import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The delivery contract over real loopback HTTP (keep-alive, `URLSessionTransport`, answers lost
/// at the socket): transient per-record errors are retried until every record lands, and two
/// drainers whose login endpoint stalls never have one record in two requests at once.
@Suite(.serialized) struct OutboxWireTests {
    /// The org as the server sees it: collections requests logged with the references they
    /// carry, a record in two requests at once noted, every token request answered `stall` late, and
    /// every collections answer `latency` late.
    final class WitnessedOrg: HTTPTransport {
        let org: SalesforceSimulator
        let stall: Duration
        let latency: Duration
        let inFlight = Lock<[String: Int]>([:])
        let overlapping = Lock<Set<String>>([])
        let tokenRequests = Lock(0)

        init(org: SalesforceSimulator, stall: Duration = .zero, latency: Duration = .zero) {
            self.org = org
            self.stall = stall
            self.latency = latency
        }

        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.hasSuffix("/token") {
                tokenRequests.withLock { $0 += 1 }
                if stall > .zero { try await Task.sleep(for: stall) }
            }
            guard request.method == .patch, request.url.path.contains("/composite/sobjects/"), let body = request.body,
                  case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: body), case .array(let records)? = object["records"]
            else { return try await org.send(request) }
            let references = records.compactMap { $0.objectValue?["Reference__c"]?.stringValue }
            inFlight.withLock { inFlight in
                for reference in references {
                    if inFlight[reference, default: 0] > 0 { overlapping.withLock { _ = $0.insert(reference) } }
                    inFlight[reference, default: 0] += 1
                }
            }
            defer { inFlight.withLock { inFlight in for reference in references { inFlight[reference, default: 1] -= 1 } } }
            if latency > .zero { try await Task.sleep(for: latency) }
            return try await org.send(request)
        }
    }

    func serve(chaos: ChaosSchedule? = nil, _ make: @escaping @Sendable (SalesforceSimulator) -> WitnessedOrg) throws -> (LoopbackHTTPServer, WitnessedOrg) {
        var served: WitnessedOrg?
        let server = try LoopbackHTTPServer(chaos: chaos) { url in
            let witnessed = make(SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock()))
            served = witnessed
            return witnessed
        }
        return (server, served!)
    }

    func client(_ server: LoopbackHTTPServer, callTimeout: Duration = .seconds(30)) throws -> SalesforceClient {
        let transport = URLSessionTransport(options: .init(attemptTimeout: .seconds(10)))
        return try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: server.baseURL, callTimeout: callTimeout, allowHTTPLoopback: true), transport: transport,
            tokenProvider: OAuthTokenProvider(loginURL: server.baseURL, grant: .clientCredentials(clientID: "sim-client", clientSecret: "sim-secret"),
                                              transport: transport, allowHTTPLoopback: true))
    }

    func payments(_ range: ClosedRange<Int>) -> [OutboxEntry] {
        range.map { n in
            OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(1)], enqueuedAt: Date())
        }
    }

    @Test(.timeLimit(.minutes(1))) func transientPerRecordErrorsOverHTTPLeaveNoDeadLetter() async throws {
        // And at the socket: the first two answers, then 5 % of the others, are lost after the
        // server committed (the connection closes without an answer).
        let clock = SystemClock()
        let chaos = ChaosSchedule(faults: [.lostResponses(probability: 1, limit: 2), .lostResponses(probability: 0.05)], seed: 9, clock: clock,
                                  origin: clock.now)
        let (server, witnessed) = try serve(chaos: chaos) { WitnessedOrg(org: $0) }
        defer { server.stop() }
        #expect(OutboxDeliveryTests.failOnce(witnessed.org, every: 20, of: 1_000) == 50)
        let store = InMemoryOutboxStore()
        await store.enqueue(payments(1...1_000))
        let fast = Backoff(initial: .milliseconds(10), multiplier: 2, maximum: .milliseconds(40))
        let outbox = Outbox(store: store, client: try client(server), options: OutboxOptions(retryBackoff: fast), random: RandomSource(seed: 5))
        try await outbox.drain()
        let letters = await store.deadLetters
        #expect(letters.isEmpty, "dead-lettered: \(letters.map(\.reason).prefix(3))")
        let stored = witnessed.org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(stored.count == 1_000 && stored.values.allSatisfy { $0 == 1 })
        #expect(chaos.statistics["lost response", default: 0] >= 2, "no answer was lost: \(chaos.statistics)")
    }

    @Test(.timeLimit(.minutes(1))) func aLoginThatStallsNeverPutsARecordInTwoRequestsAtOnce() async throws {
        // The token endpoint takes 3 s to answer; a call may take 1 s and a claim lasts 2 s. Before
        // the token fetch was bounded with the batch, the first drainer waited out the login past
        // its lease while the second claimed the same records, and both sent them when the token came.
        let (server, witnessed) = try serve { WitnessedOrg(org: $0, stall: .seconds(3), latency: .milliseconds(100)) }
        defer { server.stop() }
        let store = InMemoryOutboxStore()
        await store.enqueue(payments(1...20))
        let client = try client(server, callTimeout: .seconds(1))
        let options = OutboxOptions(batchSize: 20, retryBackoff: Backoff(initial: .milliseconds(50), multiplier: 2, maximum: .milliseconds(200)),
                                    idleInterval: .milliseconds(50), claimLease: .seconds(2))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for seed in 1...2 {
                group.addTask { try await Outbox(store: store, client: client, options: options, random: RandomSource(seed: UInt64(seed))).drain() }
            }
            try await group.waitForAll()
        }
        #expect(witnessed.tokenRequests.withLock { $0 } >= 1)
        #expect(witnessed.overlapping.withLock { $0 }.isEmpty, "in two requests at once: \(witnessed.overlapping.withLock { $0 }.sorted().prefix(5))")
        let stored = witnessed.org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(stored.count == 20 && stored.values.allSatisfy { $0 == 1 })
        #expect(await store.deadLetters.isEmpty)
    }

    @Test(.timeLimit(.minutes(1))) func aBulkHandOffOverHTTPWithLostAnswersSavesEachRecordOnce() async throws {
        // The first two answers (the token's, the first job's creation) and 5 % of the others are
        // lost after the server committed: a lost upload leaves its job aborted and its rows
        // unprocessed (uploading again could load them twice), a lost close or poll is asked again.
        let clock = SystemClock()
        let chaos = ChaosSchedule(faults: [.lostResponses(probability: 1, limit: 2), .lostResponses(probability: 0.05)], seed: 4, clock: clock,
                                  origin: clock.now)
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer(chaos: chaos) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url, bulkProcessingTime: .milliseconds(300)), clock: clock)
            served = org
            return org
        }
        defer { server.stop() }
        let org = try #require(served)
        let store = InMemoryOutboxStore()
        await store.enqueue(payments(1...3_000))
        let options = OutboxOptions(retryBackoff: Backoff(initial: .milliseconds(10), multiplier: 2, maximum: .milliseconds(40)),
                                    bulkHandOff: BulkHandOff(threshold: 1_000, maxRecordsPerJob: 1_500))
        try await Outbox(store: store, client: try client(server), options: options, random: RandomSource(seed: 5)).drain()
        let saves = org.upsertSaves(of: "Payment__c", field: "Reference__c")
        #expect(saves.count == 3_000 && saves.values.allSatisfy { $0 == 1 }, "saved twice: \(saves.filter { $0.value > 1 }.keys.sorted().prefix(5))")
        #expect(org.bulkJobStates.values.contains(.jobComplete), "\(org.bulkJobStates)")
        #expect(await store.deadLetters.isEmpty)
        #expect(chaos.statistics["lost response", default: 0] >= 2, "no answer was lost: \(chaos.statistics)")
    }
}
