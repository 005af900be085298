import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct OperatingModeTests {
    @Test func theEnvironmentChoosesTheInitialMode() {
        #expect(OperatingMode.fromEnvironment([:]) == .normal)
        #expect(OperatingMode.fromEnvironment(["SF_CRITICAL_ONLY": "true"]) == .criticalOnly)
        #expect(OperatingMode.fromEnvironment(["SF_FALLBACK_MODE": "TRUE"]) == .fallback)
        #expect(OperatingMode.fromEnvironment(["SF_FALLBACK_MODE": "1", "SF_CRITICAL_ONLY": "true"]) == .fallback)
        #expect(OperatingMode.fromEnvironment(["SF_CRITICAL_ONLY": "false"]) == .normal)
    }

    @Test func criticalOnlyRefusesNormalWorkWithoutSendingIt() async throws {
        let transport = MockTransport { _ in .json(200, #"{"DailyApiRequests":{"Max":10,"Remaining":5}}"#) }
        let client = try makeClient(transport) { $0.initialMode = .criticalOnly }
        let error = await #expect(throws: AdmissionError.self) { try await client.limits() }
        #expect(error?.reason == .mode(.criticalOnly))
        #expect(OutcomeClassifier().classify(error!) == .shed)
        #expect(transport.requestCount == 0)
        _ = try await client.limits(priority: .critical)
        #expect(transport.requestCount == 1)
    }

    @Test(arguments: [OperatingMode.fallback, .paused])
    func fallbackAndPausedRefuseEverything(mode: OperatingMode) async throws {
        let transport = MockTransport { _ in .status(204) }
        let client = try makeClient(transport) { $0.initialMode = mode }
        await #expect(throws: AdmissionError.self) { try await client.delete("Payment__c", id: "a01000000000001", priority: .critical) }
        #expect(transport.requestCount == 0)
    }

    @Test func switchingAtRunTimeLetsRequestsInFlightFinish() async throws {
        let clock = VirtualClock(mode: .manual)
        let recorder = EventRecorder()
        let slow = ChaosTransport(wrapping: MockTransport { _ in .status(204) }, clock: clock, seed: 1, faults: [.latency(.seconds(1))])
        let client = try makeClient(slow, recorder: recorder, clock: clock)
        _ = try await client.tokens.token()
        let inFlight = Task { try await client.delete("Payment__c", id: "a01000000000001") }
        #expect(await clock.waitForSleepers(1))
        client.mode = .paused
        await #expect(throws: AdmissionError.self) { try await client.delete("Payment__c", id: "a01000000000002") }
        await clock.advance(by: .seconds(1))
        try await inFlight.value  // the request already past the gate completed
        client.mode = .normal
        let again = Task { try await client.delete("Payment__c", id: "a01000000000003") }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .seconds(1))
        try await again.value
        #expect(recorder.events.contains(.modeChanged(from: .normal, to: .paused)))
        #expect(recorder.events.contains(.modeChanged(from: .paused, to: .normal)))
    }

    @Test func theOutboxPausesWhileTheModeDoesNotAdmitIt() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let client = try SalesforceClient(configuration: .init(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: org.clientCredentialsProvider(), clock: clock)
        let outbox = Outbox(store: InMemoryOutboxStore(), client: client)
        try await outbox.enqueue("Payment__c", externalIdField: "Reference__c", externalId: "PAY-1", fields: ["Amount__c": 1])
        client.mode = .fallback
        #expect(try await outbox.drainOnce() == .paused(reason: .shed, for: .seconds(1)))
        #expect(org.records(of: "Payment__c").isEmpty)
        client.mode = .criticalOnly  // the outbox's work is critical
        #expect(try await outbox.drainOnce() == .sent(delivered: 1, deadLettered: 0, retrying: 0))
    }
}

@Suite struct APIBudgetGuardTests {
    let recorder = EventRecorder()

    var crossings: [String] {
        recorder.events.compactMap { event in
            if case .apiUsageThresholdCrossed(let threshold, _, let rising) = event { return "\(threshold)\(rising ? "↑" : "↓")" }
            return nil
        }
    }

    @Test func warningAndSheddingThresholdsAreCrossedBothWays() {
        let guardian = APIBudgetGuard(options: .init(warningThreshold: 0.8, shedThreshold: 0.95), events: recorder.sink)
        guardian.record(APIUsage(used: 50, max: 100))
        #expect(crossings.isEmpty && !guardian.isShedding)
        guardian.record(APIUsage(used: 81, max: 100))
        #expect(crossings == ["0.8↑"] && !guardian.isShedding)
        guardian.record(APIUsage(used: 85, max: 100))
        #expect(crossings == ["0.8↑"])
        guardian.record(APIUsage(used: 96, max: 100))
        #expect(crossings == ["0.8↑", "0.95↑"] && guardian.isShedding)
        guardian.record(APIUsage(used: 90, max: 100))
        #expect(crossings == ["0.8↑", "0.95↑", "0.95↓"] && !guardian.isShedding)
        guardian.record(APIUsage(used: 10, max: 100))
        #expect(crossings == ["0.8↑", "0.95↑", "0.95↓", "0.8↓"])
    }

    @Test func limitExceededShedsUntilUsageIsSeenToFall() {
        let guardian = APIBudgetGuard(events: recorder.sink)
        guardian.recordLimitExceeded(APIUsage(used: 15_000, max: 15_000))
        #expect(guardian.isShedding)
        guardian.record(APIUsage(used: 15_000, max: 15_000))
        #expect(guardian.isShedding)
        guardian.record(APIUsage(used: 14_000, max: 15_000))
        #expect(!guardian.isShedding)
    }

    @Test func theClientShedsNormalWorkPastTheThresholdAndResumesWhenUsageFalls() async throws {
        let usage = Lock("api-usage=96/100")
        let transport = MockTransport { _ in .json(200, #"{"DailyApiRequests":{"Max":100,"Remaining":4}}"#, headers: ["Sforce-Limit-Info": usage.withLock { $0 }]) }
        let client = try makeClient(transport, recorder: recorder)
        _ = try await client.limits()  // sees 96 %
        let error = await #expect(throws: AdmissionError.self) { try await client.limits() }
        #expect(error?.reason == .apiBudget(fraction: 0.96))
        usage.withLock { $0 = "api-usage=50/100" }
        _ = try await client.limits(priority: .critical)  // critical work still flows, and sees usage fall
        _ = try await client.limits()
        #expect(transport.requestCount == 3)
    }
}

