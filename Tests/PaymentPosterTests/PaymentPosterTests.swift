import Foundation
@testable import PaymentPosterKit
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct PaymentPosterTests {
    @Test func theDefaultRunLandsEveryPaymentOnceThroughTheIncident() async throws {
        let summary = try await PaymentPoster.run(PosterOptions(), environment: [:], output: { _ in })
        #expect(summary.mode == "simulator")
        #expect(summary.landed == 2_000)
        #expect(summary.lost == 0)
        #expect(summary.duplicates == 0)
        #expect(summary.stillQueued == 0)
        #expect(summary.breakerOpens > 0)      // the storm was felt
        #expect(summary.tokenRefreshes >= 1)   // the mid-storm session expiry was handled
        #expect(summary.apiCalls < 400)        // 2,000 payments in collections, not one call each
        let drain = try #require(summary.drainAfterStormSeconds)
        // The breaker probes every 8 s and the outbox sends its batch as the probe, so the
        // backlog clears within seconds of the storm's end, not after a backoff of its own.
        #expect(drain <= 15)
    }

    @Test func theSameSeedGivesTheSameRun() async throws {
        var options = PosterOptions()
        options.count = 300
        let first = try await PaymentPoster.run(options, environment: [:], output: { _ in })
        let second = try await PaymentPoster.run(options, environment: [:], output: { _ in })
        #expect(first.apiCalls == second.apiCalls && first.retries == second.retries && first.simulatedSeconds == second.simulatedSeconds)
    }

    @Test func killedMidRunAndRestartedWithTheSameJournalItFinishesWithNothingLostOrDuplicated() async throws {
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("poster-\(UUID().uuidString).journal").path
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        var options = PosterOptions()
        options.count = 1_000
        options.journal = journal
        await #expect(throws: PaymentPoster.SimulatedCrash.self) {
            try await PaymentPoster.run(options, environment: [:], org: (org, clock), crashAfterSteps: 40, output: { _ in })
        }
        let landedBeforeCrash = org.records(of: "Payment__c").count
        #expect(landedBeforeCrash > 0 && landedBeforeCrash < 1_000)
        let restarted = try await PaymentPoster.run(options, environment: [:], org: (org, clock), output: { _ in })
        #expect(restarted.landed == 1_000)
        #expect(restarted.duplicates == 0)
        #expect(restarted.lost == 0)
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
    }

    @Test func progressIsReportedAndTheSummaryEndsWithJSON() async throws {
        let lines = LineCollector()
        var options = PosterOptions()
        options.count = 200
        let summary = try await PaymentPoster.run(options, environment: [:], output: { lines.append($0) })
        #expect(lines.all.first?.hasPrefix("PaymentPoster: 200 payments") == true)
        let progress = lines.all.filter { $0.hasPrefix("[t=") && $0.contains("enqueued") }
        #expect(progress.count >= 3)
        #expect(progress.last?.contains("enqueued 200/200") == true)
        let decoded = try JSONDecoder().decode(PosterSummary.self, from: Data(summary.json.utf8))
        #expect(decoded == summary)
        #expect(summary.table.contains("| landed             | 200"))
    }

    @Test func optionsParse() throws {
        let options = try PosterOptions.parse(["--count", "10", "--rate", "3", "--sobject", "Pay__c", "--external-id-field", "Ref__c",
                                               "--journal", "/tmp/j", "--seed", "9", "--quiet", "--instance-url", "http://127.0.0.1:8080",
                                               "--allow-http-loopback"])
        #expect(options.count == 10 && options.rate == 3 && options.sobject == "Pay__c" && options.externalIdField == "Ref__c")
        #expect(options.journal == "/tmp/j" && options.seed == 9 && !options.progress && options.allowHTTPLoopback)
        #expect(options.instanceURL == URL(string: "http://127.0.0.1:8080"))
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--count", "0"]) }
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--count"]) }
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--bogus"]) }
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--instance-url", "nope"]) }
    }

    @Test func maxWaitTakesSecondsMinutesOrHours() throws {
        #expect(try PosterOptions.parse(["--max-wait", "90"]).maxWait == .seconds(90))
        #expect(try PosterOptions.parse(["--max-wait", "90s"]).maxWait == .seconds(90))
        #expect(try PosterOptions.parse(["--max-wait", "15m"]).maxWait == .seconds(900))
        #expect(try PosterOptions.parse(["--max-wait", "2h"]).maxWait == .seconds(7_200))
        for bad in ["0", "-5m", "soon", "5d", "99999999999999999999h"] {
            #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--max-wait", bad]) }
        }
    }

    @Test func namesThatWouldChangeTheQueryAreRefused() {
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--sobject", "Payment__c WHERE Id != null"]) }
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--external-id-field", "Ref'"]) }
    }

    @Test func plainHTTPNeedsTheLoopbackFlagAndSaysSo() throws {
        let error = #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--instance-url", "http://127.0.0.1:8080"]) }
        #expect(error?.description.contains("--allow-http-loopback") == true)
        #expect(throws: PosterOptions.UsageError.self) {
            try PosterOptions.parse(["--instance-url", "http://acme.my.salesforce.com", "--allow-http-loopback"])
        }
        #expect(try PosterOptions.parse(["--instance-url", "https://acme.my.salesforce.com"]).instanceURL?.host == "acme.my.salesforce.com")
    }

    @Test func theResumeCommandParsesBackToTheSameRun() throws {
        let options = try PosterOptions.parse(["--instance-url", "http://127.0.0.1:8080", "--allow-http-loopback", "--count", "300",
                                               "--rate", "7", "--sobject", "Pay__c", "--max-wait", "15m", "--quiet",
                                               "--token-store", "/var/lib/poster/token store"])
        let command = options.resumeCommand(journal: "/var/lib/poster/my journal")
        #expect(command.contains("--journal '/var/lib/poster/my journal'"))
        // Split the way a shell would for these quoting rules (single quotes, no escapes inside).
        var words: [String] = []
        var current = ""
        var quoted = false
        for character in command {
            if character == "'" { quoted.toggle() } else if character == " ", !quoted {
                words.append(current)
                current = ""
            } else { current.append(character) }
        }
        words.append(current)
        var expected = options
        expected.journal = "/var/lib/poster/my journal"
        #expect(words.first == "PaymentPoster")
        #expect(try PosterOptions.parse(Array(words.dropFirst())) == expected)
    }

    @Test func theExitStatusSaysWhetherEveryPaymentLanded() {
        var summary = PosterSummary(
            mode: "org", payments: 10, landed: 10, duplicates: 0, lost: 0, deadLettered: 0, stillQueued: 0, notYetEnqueued: 0,
            deliveredThisRun: 10, checkedAgainst: "org", apiCalls: 3, retries: 0, breakerOpens: 0, tokenRefreshes: 0,
            stoppedEarly: nil, simulatedSeconds: 1, drainAfterStormSeconds: nil, elapsedSeconds: 1)
        #expect(summary.exitCode == 0)
        summary.stillQueued = 2
        summary.landed = 8
        #expect(summary.exitCode == 1)
        summary.stoppedEarly = "nothing delivered for 15 min (--max-wait)"
        #expect(summary.exitCode == 3)
        summary = PosterSummary(
            mode: "org", payments: 10, landed: nil, duplicates: nil, lost: nil, deadLettered: 0, stillQueued: 0, notYetEnqueued: 0,
            deliveredThisRun: 10, checkedAgainst: "not checked: limit", apiCalls: 3, retries: 0, breakerOpens: 0, tokenRefreshes: 0,
            stoppedEarly: nil, simulatedSeconds: 1, drainAfterStormSeconds: nil, elapsedSeconds: 1)
        #expect(summary.exitCode == 0, "the journal saw every payment acknowledged; the org could not be asked")
        #expect(summary.table.contains("| landed             | not checked"))
        summary.deadLettered = 1
        #expect(summary.exitCode == 1)
    }

    @Test func aRealOrgNeedsCredentials() async throws {
        var options = PosterOptions()
        options.instanceURL = URL(string: "https://acme.my.salesforce.com")
        await #expect(throws: PosterOptions.UsageError.self) { try await PaymentPoster.run(options, environment: [:], output: { _ in }) }
        let noClient = await #expect(throws: PosterOptions.UsageError.self) {
            try await PaymentPoster.run(options, environment: ["SF_REFRESH_TOKEN": "R"], output: { _ in })
        }
        #expect(noClient?.description.contains("SF_CLIENT_ID") == true)
    }

    @Test func theEnvironmentChoosesTheFlowAndTheTokenStoreNeedsARealOrg() throws {
        let instance = URL(string: "https://acme.my.salesforce.com")!
        func provider(_ environment: [String: String]) throws -> any TokenProvider {
            try PaymentPoster.credentials(environment, instanceURL: instance, options: PosterOptions(), transport: MockTransport(),
                                          clock: VirtualClock(), events: .none)
        }
        #expect(try provider(["SF_ACCESS_TOKEN": "T", "SF_REFRESH_TOKEN": "R", "SF_CLIENT_ID": "app"]) is StaticTokenProvider)
        let refresh = try provider(["SF_REFRESH_TOKEN": "R", "SF_CLIENT_ID": "app", "SF_LOGIN_URL": "https://login.salesforce.com"])
        #expect(refresh.credentialOwner == "refresh_token app@login.salesforce.com")
        #expect(try provider(["SF_CLIENT_ID": "app", "SF_CLIENT_SECRET": "S"]).credentialOwner == "client_credentials app@acme.my.salesforce.com")
        #expect(throws: PosterOptions.UsageError.self) { try provider(["SF_REFRESH_TOKEN": "R", "SF_CLIENT_ID": "app", "SF_LOGIN_URL": "nope"]) }
        #expect(throws: PosterOptions.UsageError.self) { try PosterOptions.parse(["--token-store", "/tmp/t"]) }
    }
}

final class LineCollector: Sendable {
    private let lines = Lock<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

