import SalesforceResilience
import Testing

@Suite struct RetryBudgetTests {
    @Test func retriesSpendTokensUntilEmpty() {
        let budget = RetryBudget(options: .init(capacity: 20, retryCost: 5))
        #expect((0..<6).map { _ in budget.tryAcquire(5) } == [true, true, true, true, false, false])
        #expect(budget.available == 0)
    }

    @Test func ambiguousRetriesCostMore() {
        let budget = RetryBudget()
        #expect(budget.cost(for: .ambiguousNetwork) == 10)
        #expect(budget.cost(for: .transientServer) == 5)
    }

    @Test func successesRefundUpToCapacity() {
        let budget = RetryBudget(options: .init(capacity: 10, retryCost: 5, successReward: 1))
        _ = budget.tryAcquire(5)
        budget.recordSuccess(refunding: nil)
        #expect(budget.available == 6)
        budget.recordSuccess(refunding: 5)
        #expect(budget.available == 10)
        budget.recordSuccess(refunding: 5)
        #expect(budget.available == 10)
    }
}
