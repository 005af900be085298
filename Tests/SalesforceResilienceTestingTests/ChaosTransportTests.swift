import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct ChaosTransportTests {
    let dataURL = URL(string: "https://sim.my.salesforce.com/services/data/v62.0/limits")!
    let tokenURL = URL(string: "https://sim.my.salesforce.com/services/oauth2/token")!

    func outcome(_ chaos: ChaosTransport, _ url: URL? = nil) async -> String {
        do {
            return "\(try await chaos.send(HTTPRequest(method: .get, url: url ?? dataURL)).status)"
        } catch let error as TransportError {
            return error.delivery.rawValue
        } catch {
            return "other"
        }
    }

    @Test func aStormWindowAnswers503OnlyInsideIt() async throws {
        let clock = VirtualClock(mode: .manual)
        let inner = MockTransport { _ in .status(200) }
        let chaos = ChaosTransport(wrapping: inner, clock: clock, seed: 1, faults: [.serviceUnavailable(from: .seconds(60), for: .seconds(300), retryAfter: "10")])
        #expect(await outcome(chaos) == "200")
        await clock.advance(by: .seconds(60))
        let stormy = try await chaos.send(HTTPRequest(method: .get, url: dataURL))
        #expect(stormy.status == 503 && stormy.headers["Retry-After"] == "10")
        await clock.advance(by: .seconds(299))
        #expect(await outcome(chaos) == "503")
        await clock.advance(by: .seconds(1))
        #expect(await outcome(chaos) == "200")
        #expect(inner.requestCount == 2)
        #expect(chaos.statistics == ["status 503": 2])
    }

    @Test func aLostResponseIsCommittedButAmbiguousToTheCaller() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let org = SalesforceSimulator(clock: clock)
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: 1, faults: [.lostResponses(probability: 1)])
        let token = try await org.clientCredentialsProvider().fetchToken()
        let request = HTTPRequest(
            method: .patch, url: URL(string: "https://sim.my.salesforce.com/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1")!,
            headers: ["Authorization": "Bearer \(token.value)"], body: Data(#"{"Amount__c":1}"#.utf8))
        let error = await #expect(throws: TransportError.self) { try await chaos.send(request) }
        #expect(error?.delivery == .ambiguous)
        #expect(org.records(of: "Payment__c").count == 1)
    }

    @Test func aLimitedFaultStrikesExactlyItsLimitThenNeverAgain() async throws {
        let clock = VirtualClock(mode: .manual)
        let inner = MockTransport { _ in .status(200) }
        let chaos = ChaosTransport(wrapping: inner, clock: clock, seed: 3, faults: [.lostResponses(probability: 1, limit: 2)])
        var outcomes: [String] = []
        for _ in 0..<5 { outcomes.append(await outcome(chaos)) }
        #expect(outcomes == ["ambiguous", "ambiguous", "200", "200", "200"])
        #expect(inner.requestCount == 5)
        #expect(chaos.statistics == ["lost response": 2])
    }

    @Test func aConnectionFailureNeverReachesTheServer() async throws {
        let inner = MockTransport { _ in .status(200) }
        let chaos = ChaosTransport(wrapping: inner, clock: VirtualClock(), seed: 1, faults: [.connectionFailures(probability: 1)])
        #expect(await outcome(chaos) == "notSent")
        #expect(inner.requestCount == 0)
    }

    @Test func serverErrorsAreHTMLPagesFromTheListedStatuses() async throws {
        let chaos = ChaosTransport(wrapping: MockTransport { _ in .status(200) }, clock: VirtualClock(), seed: 3, faults: [.randomServerErrors(probability: 1)])
        var seen = Set<Int>()
        for _ in 0..<50 {
            let response = try await chaos.send(HTTPRequest(method: .get, url: dataURL))
            #expect(response.headers["Content-Type"] == "text/html")
            seen.insert(response.status)
        }
        #expect(seen == [500, 502, 504])
    }

    @Test func latencyPassesOnTheClock() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let chaos = ChaosTransport(wrapping: MockTransport { _ in .status(200) }, clock: clock, seed: 1, faults: [.latency(.milliseconds(250))])
        for _ in 0..<4 { _ = try await chaos.send(HTTPRequest(method: .get, url: dataURL)) }
        #expect(clock.elapsed == .seconds(1))
    }

    @Test func theSameSeedReplaysTheSameRun() async throws {
        func run(seed: UInt64) async -> [String] {
            let chaos = ChaosTransport(wrapping: MockTransport { _ in .status(200) }, clock: VirtualClock(), seed: seed,
                                       faults: [.lostResponses(probability: 0.3), .randomServerErrors(probability: 0.2), .connectionFailures(probability: 0.1)])
            var outcomes: [String] = []
            for _ in 0..<100 { outcomes.append(await outcome(chaos)) }
            return outcomes
        }
        let first = await run(seed: 42)
        #expect(await run(seed: 42) == first)
        #expect(await run(seed: 43) != first)
    }

    @Test func probabilityIsHonouredOverManyRequests() async throws {
        let chaos = ChaosTransport(wrapping: MockTransport { _ in .status(200) }, clock: VirtualClock(), seed: 7, faults: [.lostResponses(probability: 0.05)])
        var lost = 0
        for _ in 0..<4_000 where await outcome(chaos) == "ambiguous" { lost += 1 }
        #expect((120...280).contains(lost))
    }

    @Test func scopeKeepsDataFaultsOffTheTokenEndpoint() async throws {
        let chaos = ChaosTransport(wrapping: MockTransport { _ in .status(200) }, clock: VirtualClock(), seed: 1, faults: [.lostResponses(probability: 1, scope: .dataAPI)])
        #expect(await outcome(chaos, tokenURL) == "200")
        #expect(await outcome(chaos) == "ambiguous")
    }
}
