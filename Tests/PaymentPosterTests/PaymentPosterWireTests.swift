import Foundation
@testable import PaymentPosterKit
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// PaymentPoster in real-org mode, over real loopback HTTP with keep-alive, through
/// `URLSessionTransport`, against the simulator served by `LoopbackHTTPServer` with faults at
/// the socket. Time runs on a virtual clock shared by the poster, the simulator and the fault
/// schedule, so minutes of incident pass in well under a second; the bytes are real.
@Suite(.serialized) struct PaymentPosterWireTests {
    /// A served org and the options that point the poster at it.
    struct Rig {
        let clock = VirtualClock(mode: .autoAdvance)
        let server: LoopbackHTTPServer
        let org: SalesforceSimulator
        var options = PosterOptions()

        init(faults: [ChaosFault] = [], seed: UInt64 = 40, simulator: SimulatorOptions = SimulatorOptions(), journal: String? = nil) throws {
            var served: SalesforceSimulator?
            let clock = self.clock
            server = try LoopbackHTTPServer(chaos: ChaosSchedule(faults: faults, seed: seed, clock: clock)) { url in
                var settings = simulator
                settings.instanceURL = url
                let org = SalesforceSimulator(options: settings, clock: clock)
                served = org
                return org
            }
            org = served!
            options.instanceURL = server.baseURL
            options.allowHTTPLoopback = true
            options.progress = true
            options.journal = journal ?? FileManager.default.temporaryDirectory.appendingPathComponent("wire-\(UUID().uuidString).journal").path
        }

        func run(_ lines: LineCollector = LineCollector()) async throws -> PosterSummary {
            try await PaymentPoster.run(
                options, environment: ["SF_CLIENT_ID": "poster", "SF_CLIENT_SECRET": "secret"], org: nil, crashAfterSteps: nil,
                runtime: PosterRuntime(clock: clock, transport: URLSessionTransport(options: .init(attemptTimeout: .seconds(10)))),
                output: { lines.append($0) })
        }
    }

    /// S40 in virtual time: 200 payments at 20/s, a 503 storm from t = 2 s to 42 s, 5 % of
    /// committed writes answered by a closed connection.
    @Test(.timeLimit(.minutes(1))) func lostAnswersThroughAStormLandEveryPaymentOnceWithFewCalls() async throws {
        var rig = try Rig(faults: [.serviceUnavailable(from: .seconds(2), for: .seconds(40)), .lostResponses(probability: 0.05)])
        defer { rig.server.stop() }
        rig.options.count = 200
        rig.options.rate = 20
        let summary = try await rig.run()
        #expect(summary.mode == "org" && summary.checkedAgainst == "org")
        #expect(summary.landed == 200 && summary.duplicates == 0 && summary.lost == 0)
        #expect(summary.exitCode == 0)
        #expect(rig.server.exchanges.allSatisfy { $0.complete }, "a request reached the server without its body")
        // The targets, in virtual time: ≤ 15 requests (token and reconciliation included)
        // and done ≤ 55 s after the start, 13 s after the storm.
        #expect(summary.apiCalls <= 15, "\(summary.json)")
        #expect(summary.simulatedSeconds <= 55, "\(summary.json)")
    }

    /// The storm has begun before the poster starts: its login meets a minute of 503s. It waits
    /// them out with backoff (1, 2, 4, 8, 16, 30 s), says so, and lands every payment once.
    @Test(.timeLimit(.minutes(1))) func aLoginThatMeetsAnOutageWaitsItOut() async throws {
        var rig = try Rig(faults: [.serviceUnavailable(from: .zero, for: .seconds(60))])
        defer { rig.server.stop() }
        rig.options.count = 50
        rig.options.rate = 10
        let lines = LineCollector()
        let started = rig.clock.now
        let summary = try await rig.run(lines)
        #expect(summary.landed == 50 && summary.duplicates == 0 && summary.lost == 0 && summary.exitCode == 0)
        #expect(rig.clock.now - started >= .seconds(60), "the run ended before the outage did")
        #expect(lines.all.contains { $0.hasPrefix("Login failed") && $0.contains("retrying") })
        #expect(lines.all.contains { $0.hasPrefix("Login recovered") })
        let logins = rig.server.exchanges.filter { $0.path.hasPrefix("/services/oauth2/token") }
        // Each login attempt is the token provider's 3 tries; with the backoff, a few attempts
        // span the minute, not one a second.
        #expect(logins.count >= 6 && logins.count <= 30, "\(logins.count) token requests")
        let firstData = try #require(rig.server.exchanges.firstIndex { $0.path.hasPrefix("/services/data") })
        #expect(rig.server.exchanges[..<firstData].allSatisfy { $0.path.hasPrefix("/services/oauth2/token") },
                "no payment is sent before the login succeeds")
    }

    /// The same outage with `--max-wait 20s`: the run gives up on the login after 20 s with
    /// `PosterLoginTimeout` (exit status 3), having enqueued and sent nothing.
    @Test(.timeLimit(.minutes(1))) func aLoginThatCannotSucceedWithinMaxWaitStopsHavingSentNothing() async throws {
        var rig = try Rig(faults: [.serviceUnavailable(from: .zero, for: .seconds(600))])
        defer { rig.server.stop() }
        rig.options.count = 50
        rig.options.maxWait = .seconds(20)
        let started = rig.clock.now
        let error = await #expect(throws: PosterLoginTimeout.self) { try await rig.run() }
        let waited = try #require(error).waited
        #expect(waited >= .seconds(20) && waited < .seconds(40), "\(waited)")
        #expect(rig.clock.now - started < .seconds(60))
        #expect(rig.server.exchanges.allSatisfy { $0.path.hasPrefix("/services/oauth2/token") })
        #expect(!FileManager.default.fileExists(atPath: try #require(rig.options.journal)), "no journal was opened")
        #expect(error?.description.contains("--max-wait") == true)
    }

    /// A refusal is not an outage: the app's credentials refused ends the run at the first answer.
    @Test(.timeLimit(.minutes(1))) func aRefusedLoginEndsTheRunAtOnce() async throws {
        let rig = try Rig(simulator: SimulatorOptions(clientSecret: "secret"))
        defer { rig.server.stop() }
        await #expect(throws: AuthenticationError.self) {
            try await PaymentPoster.run(
                rig.options, environment: ["SF_CLIENT_ID": "poster", "SF_CLIENT_SECRET": "wrong"], org: nil, crashAfterSteps: nil,
                runtime: PosterRuntime(clock: rig.clock, transport: URLSessionTransport()), output: { _ in })
        }
        #expect(rig.server.exchanges.count == 1)
    }

    /// 20 % of data calls answered 429 with REQUEST_LIMIT_EXCEEDED and Retry-After: 1. Before the
    /// fix the first one was read as the daily limit and the outbox stopped for 15 minutes.
    @Test(.timeLimit(.minutes(1))) func a429BurstWithARequestLimitBodyIsThrottlingNotADailyStop() async throws {
        var rig = try Rig(faults: [.throttled(from: .zero, for: .seconds(3_600), probability: 0.2, retryAfter: "1",
                                              errorCode: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests")])
        defer { rig.server.stop() }
        rig.options.count = 1_000
        rig.options.rate = 50
        let summary = try await rig.run()
        #expect(summary.landed == 1_000 && summary.duplicates == 0)
        #expect(summary.simulatedSeconds <= 40, "\(summary.json)")
        #expect(rig.server.exchanges.contains { $0.fault == "answer 429" })
    }

    /// The daily allowance runs out part-way: the poster says so and when it will try again,
    /// `--max-wait` ends the run with status 3 and the resume command, nothing leaves the
    /// journal, and the resumed run's summary counts every payment from the org.
    @Test(.timeLimit(.minutes(1))) func atTheDailyLimitItSaysWhyStopsOnMaxWaitAndResumesToTheFullCount() async throws {
        var rig = try Rig(simulator: SimulatorOptions(dailyAPILimit: 100))
        defer { rig.server.stop() }
        // One call left: budget pacing spends it on the first payment, and the next call meets the limit.
        rig.org.setAPIUsage(99)
        rig.options.count = 300
        rig.options.rate = 10
        rig.options.maxWait = .seconds(120)
        let lines = LineCollector()
        let stopped = try await rig.run(lines)
        #expect(stopped.exitCode == 3)
        #expect(stopped.stoppedEarly?.contains("daily API limit") == true)
        #expect(stopped.stillQueued + stopped.notYetEnqueued > 0)
        #expect(stopped.landed == nil, "the org could not be queried at its limit, so landed must not be claimed")
        #expect(stopped.checkedAgainst.hasPrefix("not checked"))
        #expect(lines.all.contains { $0.contains("paused: the org's daily API limit is exhausted") && $0.contains("next attempt at") })
        let resume = try #require(lines.all.firstIndex { $0.contains("Resume with:") }.map { lines.all[$0] })
        #expect(resume.contains("--journal \(rig.options.journal!)") && resume.contains("--count 300"))
        let deliveredFirst = stopped.deliveredThisRun

        rig.org.setAPIUsage(0)  // the rolling window moved on
        rig.options.maxWait = nil
        let resumed = try await rig.run()
        #expect(resumed.exitCode == 0)
        #expect(resumed.landed == 300, "landed counts what the org holds, not what this run delivered")
        #expect(resumed.deliveredThisRun == 300 - deliveredFirst)
        #expect(rig.org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
    }

    @Test func duplicatesAndPaymentsGoneFromTheOrgAreCountedFromWhatTheOrgHolds() async throws {
        var rig = try Rig(simulator: SimulatorOptions(organizationID: "00DWIRE00000001"))
        defer { rig.server.stop() }
        rig.options.count = 50
        rig.options.rate = 50
        rig.org.seed("Payment__c", records: [["Reference__c": "PAY-000007"]])  // someone created it by hand first…
        rig.org.seed("Payment__c", records: [["Reference__c": "PAY-000007"]])  // …twice
        let first = try await rig.run()
        #expect(first.duplicates == 1 && first.landed == 49 && first.lost == 0)
        #expect(first.deadLettered == 1, "an upsert matching two records is refused for good")
        #expect(first.exitCode == 1)

        // The same org (same id) restored from an old backup: the journal says delivered, the org
        // holds nothing. A second run has nothing to send, says so, and reports them lost.
        let restored = try Rig(simulator: SimulatorOptions(organizationID: "00DWIRE00000001"), journal: rig.options.journal)
        defer { restored.server.stop() }
        var options = restored.options
        options.count = 50
        options.rate = 50
        let lines = LineCollector()
        let second = try await PaymentPoster.run(
            options, environment: ["SF_CLIENT_ID": "poster", "SF_CLIENT_SECRET": "secret"], org: nil, crashAfterSteps: nil,
            runtime: PosterRuntime(clock: restored.clock, transport: URLSessionTransport()), output: { lines.append($0) })
        #expect(lines.all.contains { $0.hasPrefix("Nothing left to send") })
        #expect(second.lost == 49 && second.landed == 0 && second.deadLettered == 1 && second.deliveredThisRun == 0, "\(second.json)")
        #expect(second.exitCode == 1)
    }

    @Test func aJournalFromAnotherOrgIsRefusedBeforeAnythingIsSent() async throws {
        var first = try Rig(simulator: SimulatorOptions(organizationID: "00DORGA0000001"))
        defer { first.server.stop() }
        first.options.count = 10
        first.options.rate = 10
        _ = try await first.run()
        var other = try Rig(simulator: SimulatorOptions(organizationID: "00DORGB0000001"), journal: first.options.journal)
        defer { other.server.stop() }
        other.options.count = 10
        other.options.rate = 10
        let error = await #expect(throws: PosterJournalError.self) { try await other.run() }
        #expect(error?.description.contains("00DORGA0000001") == true)
        #expect(other.org.records(of: "Payment__c").isEmpty)
    }

    @Test func aJournalOfAnotherJobIsRefused() async throws {
        var rig = try Rig()
        defer { rig.server.stop() }
        rig.options.count = 10
        rig.options.rate = 10
        _ = try await rig.run()
        rig.options.count = 11
        await #expect(throws: PosterJournalError.self) { try await rig.run() }
    }
}
