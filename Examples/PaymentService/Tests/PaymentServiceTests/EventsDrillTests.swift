import Foundation
import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPCTesting
import SalesforceResilienceTesting
import Synchronization
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The `events` command's drill: a PaymentService process reads 10,000 payment requests from
/// the Pub/Sub simulator over loopback gRPC and writes each result to an org simulator over
/// loopback HTTP, through 5 stream drops, 2 silent stalls, a session expiry and a SIGKILL
/// mid-batch, then is started again on the same journal and replay file. Every request gets
/// exactly one result record, and the stored replay id ends at the last event.
///
/// Real processes in real time; every wait is on an event (a count of events delivered or of
/// records in the org, a log line, a process exiting), never a fixed sleep.
@Suite(.serialized) struct EventsDrillTests {
    static let topic = "/event/Payment_Requested__e"
    static let schemaID = "PaymentRequested-1"

    /// What the simulator does when it has delivered so many events (redeliveries included).
    enum Step: Sendable, Equatable {
        case drop, silence, expire, kill
    }

    /// The bus as the gRPC server sees it: passes every call to the in-memory bus, counts the
    /// events it delivers, plays `plan` as the count passes each step, and times the
    /// subscriptions, so that the test can tell how soon the service came back.
    final class DrillBus: PubSubConnection {
        let bus: InMemoryPubSub
        struct Log {
            var delivered = 0
            var plan: [(at: Int, step: Step)]
            var played: [(step: Step, at: ContinuousClock.Instant)] = []
            var subscribed: [ContinuousClock.Instant] = []
        }
        let log: Mutex<Log>
        let killNow: AsyncStream<Void>.Continuation

        init(bus: InMemoryPubSub, plan: [(Int, Step)], killNow: AsyncStream<Void>.Continuation) {
            self.bus = bus
            log = Mutex(Log(plan: plan.map { (at: $0.0, step: $0.1) }))
            self.killNow = killNow
        }

        func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream {
            log.withLock { $0.subscribed.append(.now) }
            return Stream(inner: try await bus.subscribe(topic: topic, from: replay, token: token), owner: self)
        }

        func schema(id schemaID: String, token: AccessToken) async throws -> String {
            try await bus.schema(id: schemaID, token: token)
        }

        func delivered(_ count: Int) {
            let due = log.withLock { log in
                log.delivered += count
                let due = log.plan.filter { $0.at <= log.delivered }.map(\.step)
                log.plan.removeAll { $0.at <= log.delivered }
                log.played += due.map { (step: $0, at: ContinuousClock.now) }
                return due
            }
            for step in due {
                switch step {
                case .drop: bus.dropOpenStreams()
                case .silence: bus.silenceOpenStreams()
                case .expire: bus.expireSessions()
                case .kill: killNow.finish()
                }
            }
        }

        final class Stream: PubSubStream {
            let inner: any PubSubStream
            let owner: DrillBus

            init(inner: any PubSubStream, owner: DrillBus) {
                self.inner = inner
                self.owner = owner
            }

            func request(_ count: Int) async throws { try await inner.request(count) }

            func next() async throws -> PubSubFetchResponse? {
                let response = try await inner.next()
                if let response, !response.events.isEmpty { owner.delivered(response.events.count) }
                return response
            }

            func cancel() { inner.cancel() }
        }
    }

    @Test(.timeLimit(.minutes(5))) func tenThousandRequestsThroughDropsStallsAnExpiryAndASIGKILLGetOneResultEach() async throws {
        let count = 10_000
        let clock = SystemClock()
        // The org: lost answers to the first two result batches after commit, so that the
        // outbox's retries meet the upsert's idempotency.
        let (allLanded, landed) = AsyncStream<Void>.makeStream()
        let schedule = ChaosSchedule(faults: [.lostResponses(probability: 1, limit: 2)], seed: 5, clock: clock, origin: clock.now)
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer(chaos: schedule) { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
            served = org
            return FleetSupport.Milestones(org: org, sobject: "Payment_Result__c", thresholds: [(count, landed)])
        }
        defer { server.stop() }
        let org = try #require(served)

        // The topic: every request published before the service starts; a keepalive every
        // second on a stream with nothing to send, so that only a silenced stream is silent.
        let bus = InMemoryPubSub(clock: clock, keepaliveInterval: .seconds(1))
        bus.register(schemaID: Self.schemaID, json: PaymentRequests.schemaJSON)
        let created = Date()
        for n in 1...count {
            bus.publish(topic: Self.topic, id: String(format: "EVT-%08d", n), schemaID: Self.schemaID, payload: try PaymentRequests.payload(n, createdAt: created))
        }
        let (killPoint, killNow) = AsyncStream<Void>.makeStream()
        let plan: [(Int, Step)] = [(1_000, .drop), (2_000, .silence), (3_000, .drop), (4_000, .kill), (5_500, .drop), (6_500, .expire),
                                   (7_500, .silence), (8_500, .drop), (9_300, .drop)]
        let drill = DrillBus(bus: bus, plan: plan, killNow: killNow)
        let pubsub = try await PubSubGRPCServer(serving: drill, tenantID: org.options.organizationID)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("events-drill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let replayFile = directory.appendingPathComponent("replay").path
        let arguments = ["events", "--instance-url", server.baseURL.absoluteString, "--allow-http-loopback",
                         "--pubsub-endpoint", "127.0.0.1:\(pubsub.port)", "--pubsub-plaintext", "--silence-window", "2", "--batch-timeout", "5",
                         "--journal", directory.appendingPathComponent("journal").path, "--replay-file", replayFile,
                         "--metrics-port", "0", "--log-format", "json"]
        func launch() throws -> ChildProcess {
            try ServiceProcess.launch(arguments, environment: ["SF_CLIENT_ID": "events", "SF_CLIENT_SECRET": "secret"])
        }

        let first = try launch()
        defer { first.send(SIGKILL) }
        // `/ready` names the subscription and its state.
        let listening = try #require(await first.waitForLine(containing: "status server listening"))
        let status = try #require(try JSONDecoder().decode([String: JSONValue].self, from: Data(listening.utf8))["metadata"]?.objectValue?["url"]?
            .stringValue.flatMap(URL.init(string:)))
        _ = await first.waitForLine(containing: "pubsub subscribed")
        let ready = try await URLSessionTransport().send(HTTPRequest(method: .get, url: status.appendingPathComponent("ready")))
        let checks = try JSONDecoder().decode([String: JSONValue].self, from: ready.body)["checks"]?.arrayValue ?? []
        let subscription = checks.compactMap(\.objectValue).first { $0["name"]?.stringValue == "subscription \(Self.topic)" }
        // Subscribed, passing; or, if the first drop came already, resubscribing and failing.
        let detail = subscription?["detail"]?.stringValue ?? ""
        let passing = subscription?["ok"] == .bool(true)
        #expect((detail.hasPrefix("subscribed;") && passing) || (detail.hasPrefix("resubscribing;") && !passing),
                "\(String(decoding: ready.body, as: UTF8.self))")
        #expect(detail.contains(" handled, ") && detail.contains(" resubscribes, "), "\(detail)")

        for await _ in killPoint {}
        first.send(SIGKILL)
        #expect(await first.exitStatus() == SIGKILL)
        let resultsAtKill = org.records(of: "Payment_Result__c").count
        let second = try launch()
        defer { second.send(SIGKILL) }
        for await _ in allLanded {}

        // The last result is upserted after its event's replay id is stored; once the org holds
        // every result the service stops, and its summary reads the stored id back.
        second.send(SIGTERM)
        #expect(await second.exitStatus() == 0, "\(second.errorLines.suffix(8))")
        let summary = try JSONDecoder().decode([String: JSONValue].self, from: Data(second.standardOutput.utf8))
        let last = InMemoryPubSub.replayID(count - 1).map { String(format: "%02x", $0) }.joined()
        #expect(summary["storedReplayID"] == .string(last), "\(second.standardOutput)")
        #expect(try await FileReplayStore(path: replayFile).checkpoint(for: Self.topic)?.replayID == InMemoryPubSub.replayID(count - 1))

        // One result per request, each the request's decision.
        let results = org.records(of: "Payment_Result__c")
        let byEvent = Dictionary(grouping: results) { $0["Event_Id__c"]?.stringValue ?? "" }
        #expect(byEvent.count == count && byEvent.values.allSatisfy { $0.count == 1 }, "\(results.count) records for \(byEvent.count) events")
        for n in [1, 50, 4_000, count] {
            let record = byEvent[String(format: "EVT-%08d", n)]?.first
            let expected = PaymentRequests.decide(PaymentRequests.request(n, createdAt: created)).status
            #expect(record?["Status__c"] == .string(expected) && record?["Reference__c"] == .string(ServiceOptions.reference(n)))
        }
        #expect(resultsAtKill < count, "killed mid-job")

        // Each fault came back within its bound: a drop or an expiry within 2 s (measured: 0.2 to
        // 0.8 s), a silence within the 2 s window, a backoff (at most 0.5 s) and a connection
        // (measured: 2.6 to 2.8 s).
        let log = drill.log.withLock { $0 }
        #expect(log.played.map(\.step) == plan.map(\.1), "\(log.played.map(\.step))")
        for (step, at) in log.played where step != .kill {
            let back = log.subscribed.first { $0 > at }.map { $0 - at }
            let bound: Duration = step == .silence ? .seconds(3.5) : .seconds(2)
            #expect(back.map { $0 < bound } == true, "\(step) at \(at): resubscribed after \(String(describing: back))")
        }
        // Tokens: one per process, one more for the expired session.
        #expect(org.tokenRequests == 3, "token requests: \(org.tokenRequests)")
        #expect(schedule.statistics["lost response", default: 0] == 2)
        await pubsub.stop()
    }
}
