import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Partial batches wait for company only as long as the linger, or the budget's pacing, allows.
@Suite struct OutboxLingerTests {
    /// Records when each collections call went out and which references it carried.
    final class Recorder: HTTPTransport {
        let org: SalesforceSimulator
        let clock: VirtualClock
        let calls = Lock<[(at: Duration, references: [String])]>([])
        init(org: SalesforceSimulator, clock: VirtualClock) {
            self.org = org
            self.clock = clock
        }
        var honoursRequestTimeout: Bool { true }
        func send(_ request: HTTPRequest) async throws -> HTTPResponse {
            if request.url.path.contains("/composite/sobjects/"), let body = request.body,
               let object = try JSONSerialization.jsonObject(with: body) as? [String: Any],
               let records = object["records"] as? [[String: Any]] {
                let references = records.compactMap { $0["Reference__c"] as? String }
                calls.withLock { $0.append((clock.elapsed, references)) }
            }
            return try await org.send(request)
        }
    }

    /// An org behind a recorder, a store and an outbox on an auto-advancing clock.
    struct Rig {
        let clock = VirtualClock(mode: .autoAdvance)
        let org: SalesforceSimulator
        let recorder: Recorder
        let store: InMemoryOutboxStore
        let outbox: Outbox

        init(dailyAPILimit: Int = 100_000, options: OutboxOptions) throws {
            org = SalesforceSimulator(options: SimulatorOptions(dailyAPILimit: dailyAPILimit), clock: clock)
            recorder = Recorder(org: org, clock: clock)
            let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: recorder,
                                              tokenProvider: org.clientCredentialsProvider(), clock: clock)
            store = InMemoryOutboxStore(clock: clock)
            outbox = Outbox(store: store, client: client, options: options)
        }

        var calls: [(at: Duration, references: [String])] { recorder.calls.withLock { $0 } }

        /// Plays `count` arrivals, `burst` at a time `every` apart, and a drainer following
        /// `Outbox.wait(after:)`, in 50 ms steps; returns when each record arrived.
        func run(count: Int, every: Duration, burst: Int = 1) async throws -> [String: Duration] {
            var arrived: [String: Duration] = [:]
            var nextDrain = clock.now
            var sent = 0
            while clock.elapsed < .seconds(3_600) {
                while sent < count, clock.elapsed >= every * (sent / burst) {
                    let reference = "PAY-\(sent + 1)"
                    arrived[reference] = clock.elapsed
                    await store.enqueue([OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: reference,
                                                     fields: ["Amount__c": .number(1)], enqueuedAt: clock.wallClockNow)])
                    sent += 1
                }
                if clock.now >= nextDrain {
                    let step = try await outbox.drainOnce()
                    nextDrain = clock.now + (await outbox.wait(after: step))
                }
                if sent == count, org.records(of: "Payment__c").count == count { break }
                await clock.advance(by: .milliseconds(50))
            }
            return arrived
        }
    }

    /// The longest any record waited between arriving and going out.
    func longestWait(_ calls: [(at: Duration, references: [String])], arrived: [String: Duration]) -> Duration {
        calls.flatMap { call in call.references.map { call.at - (arrived[$0] ?? call.at) } }.max() ?? .zero
    }

    @Test func withBudgetToSpareNoRecordWaitsLongerThanTheLinger() async throws {
        let rig = try Rig(options: OutboxOptions(linger: .seconds(1)))
        let arrived = try await rig.run(count: 50, every: .milliseconds(100))
        let calls = rig.calls
        #expect(longestWait(calls, arrived: arrived) <= .milliseconds(1_050), "the linger bounds every record's wait (one 50 ms step of slack)")
        #expect(calls.count >= 5 && calls.count <= 7, "about one call per second of arrivals, not one per record: \(calls.count)")
        #expect(zip(calls, calls.dropFirst()).allSatisfy { $1.at - $0.at >= .seconds(1) }, "partial batches at most once per linger")
    }

    @Test func withoutALingerAPlentifulBudgetSendsEachPartialBatchAtOnce() async throws {
        let rig = try Rig(options: OutboxOptions(idleInterval: .milliseconds(100)))
        let arrived = try await rig.run(count: 20, every: .milliseconds(500))
        #expect(rig.calls.count == 20)
        #expect(longestWait(rig.calls, arrived: arrived) <= .milliseconds(150), "no more than the idle poll (100 ms) and one 50 ms step")
    }

    @Test func aShortBudgetSpacesPartialBatchesButNeverBeyondTheMaximumLinger() async throws {
        let pacing = OutboxOptions.BudgetPacing(horizon: .seconds(3_600), maxLinger: .seconds(20))
        let rig = try Rig(dailyAPILimit: 100, options: OutboxOptions(budgetPacing: pacing))
        // 300 payments at 2 per second against 100 calls a day.
        let arrived = try await rig.run(count: 300, every: .milliseconds(500))
        #expect(rig.org.records(of: "Payment__c").count == 300)
        #expect(rig.calls.count <= 12, "a trickle shares calls when the budget is short: \(rig.calls.count)")
        #expect(longestWait(rig.calls, arrived: arrived) <= .milliseconds(20_050), "never past the maximum linger")
        #expect(pacing.spacing(remaining: 100_000) == .zero && pacing.spacing(remaining: 1_000) == .milliseconds(3_600))
    }

    @Test func aFullBatchIsNeverHeldBack() async throws {
        let rig = try Rig(dailyAPILimit: 100, options: OutboxOptions(linger: .seconds(30)))
        // One partial batch first, so that the linger is running; then 451 at once.
        _ = try await rig.run(count: 1, every: .seconds(1))
        let start = rig.clock.elapsed
        _ = try await rig.run(count: 451, every: .seconds(1), burst: 451)
        let calls = Array(rig.calls.dropFirst())
        #expect(calls.prefix(2).map(\.references.count) == [200, 200])
        #expect(calls.prefix(2).allSatisfy { $0.at - start < .seconds(1) }, "full batches go at once")
        #expect(calls.count == 3 && calls.last?.references.count == 51)
    }
}
