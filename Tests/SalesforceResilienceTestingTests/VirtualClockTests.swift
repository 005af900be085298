import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct VirtualClockTests {
    @Test func manualClockWakesSleepersOnlyWhenAdvancedPastTheirDeadline() async throws {
        let clock = VirtualClock(mode: .manual)
        let task = Task { try await clock.sleep(until: clock.now + .seconds(10)); return clock.now }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .seconds(9))
        #expect(clock.sleeperCount == 1)
        await clock.advance(by: .seconds(1))
        #expect(try await task.value == .origin + .seconds(10))
        #expect(clock.sleeperCount == 0)
    }

    @Test func advanceWakesSleepersInDeadlineOrderAtTheirOwnTimes() async throws {
        let clock = VirtualClock(mode: .manual)
        let late = Task { try await clock.sleep(until: clock.now + .seconds(30)); return clock.now }
        let early = Task { try await clock.sleep(until: clock.now + .seconds(5)); return clock.now }
        #expect(await clock.waitForSleepers(2))
        await clock.advance(by: .seconds(60))
        #expect(try await early.value == .origin + .seconds(5))
        #expect(try await late.value == .origin + .seconds(30))
        #expect(clock.now == .origin + .seconds(60))
    }

    @Test func aTaskThatSleepsAgainWithinTheAdvanceIsWokenToo() async throws {
        let clock = VirtualClock(mode: .manual)
        let task = Task {
            for _ in 0..<3 { try await clock.sleep(until: clock.now + .seconds(10)) }
            return clock.now
        }
        #expect(await clock.waitForSleepers(1))
        await clock.advance(by: .seconds(40))
        #expect(try await task.value == .origin + .seconds(30))
    }

    @Test func cancellationWakesASleeperAtOnceWithoutMovingTime() async throws {
        let clock = VirtualClock(mode: .manual)
        let task = Task { try await clock.sleep(until: clock.now + .seconds(3_600)) }
        #expect(await clock.waitForSleepers(1))
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(clock.now == .origin)
        #expect(clock.sleeperCount == 0)
    }

    @Test func sleepingUntilThePastReturnsAtOnce() async throws {
        let clock = VirtualClock(mode: .manual)
        await clock.advance(by: .seconds(5))
        try await clock.sleep(until: .origin + .seconds(1))
        #expect(clock.sleeperCount == 0)
    }

    @Test func autoAdvanceJumpsToEachDeadline() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        try await clock.sleep(until: clock.now + .seconds(300))
        try await clock.sleep(until: clock.now + .milliseconds(500))
        #expect(clock.elapsed == .milliseconds(300_500))
    }

    @Test func wallClockFollowsVirtualTime() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        try await clock.sleep(until: clock.now + .seconds(90))
        #expect(clock.wallClockNow == VirtualClock.defaultStartDate.addingTimeInterval(90))
    }

    @Test func systemClockMovesForwardAndSharesItsOrigin() {
        let a = SystemClock().now
        let b = SystemClock().now
        #expect(b >= a)
        #expect(abs(SystemClock().wallClockNow.timeIntervalSinceNow) < 5)
    }
}
