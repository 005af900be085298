import SalesforceResilience
import Testing

@Suite struct BackoffTests {
    @Test func growsExponentiallyUntilTheCap() {
        let backoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(1), jitter: .none)
        let delays = (1...6).map { backoff.delay(forRetry: $0, unit: 0.5) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
    }

    @Test func hugeRetryNumbersStayAtTheCap() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(30), jitter: .none)
        #expect(backoff.baseDelay(forRetry: 10_000) == .seconds(30))
    }

    @Test func equalJitterStaysWithinHalfToFull() {
        let backoff = Backoff(initial: .seconds(2), maximum: .seconds(60), jitter: .equal)
        #expect(backoff.delay(forRetry: 1, unit: 0) == .seconds(1))
        #expect(backoff.delay(forRetry: 1, unit: 0.999_999) <= .seconds(2))
        #expect(backoff.delay(forRetry: 1, unit: 0.999_999) > .milliseconds(1_999))
    }

    @Test func fullJitterStaysWithinZeroToFull() {
        let backoff = Backoff(initial: .seconds(4), maximum: .seconds(60), jitter: .full)
        #expect(backoff.delay(forRetry: 1, unit: 0) == .zero)
        #expect(backoff.delay(forRetry: 1, unit: 0.5) == .seconds(2))
    }

    @Test func seededJitterSpreadsAndRepeats() {
        let backoff = Backoff.default
        let a = RandomSource(seed: 42), b = RandomSource(seed: 42)
        let first = (0..<100).map { _ in backoff.delay(forRetry: 3, unit: a.nextUnit()) }
        let second = (0..<100).map { _ in backoff.delay(forRetry: 3, unit: b.nextUnit()) }
        #expect(first == second)
        #expect(Set(first).count > 90)
        #expect(first.allSatisfy { $0 >= .seconds(1) && $0 <= .seconds(2) })
    }

    @Test func unitSamplesAreInTheHalfOpenUnitInterval() {
        let random = RandomSource(seed: 7)
        let samples = (0..<10_000).map { _ in random.nextUnit() }
        #expect(samples.allSatisfy { $0 >= 0 && $0 < 1 })
        let mean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(mean - 0.5) < 0.02)
    }
}
