import Synchronization

/// A token bucket shared by every call of a client, so that a storm cannot multiply traffic.
///
/// Each retry spends tokens; each success earns some back. While the bucket is empty, failures
/// are returned to the caller at once instead of retried: during an outage the client sends
/// about one request per call, not ``RetryPolicy/maxAttempts`` of them. This is the AWS SDKs'
/// "standard" retry mode; the defaults are theirs.
public final class RetryBudget: Sendable {
    /// Settings for a budget.
    public struct Options: Sendable, Hashable {
        /// Tokens when full, and at start. Default 500.
        public var capacity: Int
        /// Tokens a retry costs. Default 5.
        public var retryCost: Int
        /// Tokens a retry after an ambiguous failure (timeout) costs. Default 10: a timeout
        /// ties up a connection for longer.
        public var ambiguousRetryCost: Int
        /// Tokens a first-attempt success earns. Default 1.
        public var successReward: Int

        /// Creates options.
        public init(capacity: Int = 500, retryCost: Int = 5, ambiguousRetryCost: Int = 10, successReward: Int = 1) {
            self.capacity = max(0, capacity)
            self.retryCost = max(0, retryCost)
            self.ambiguousRetryCost = max(0, ambiguousRetryCost)
            self.successReward = max(0, successReward)
        }

        /// The defaults.
        public static let `default` = Options()
    }

    /// The options in force.
    public let options: Options
    /// Every call touches it, and a full bucket (the usual state) is one read: an atomic, not a lock.
    private let tokens: Atomic<Int>

    /// Creates a full budget.
    public init(options: Options = .default) {
        self.options = options
        tokens = Atomic(options.capacity)
    }

    /// A budget that never runs out.
    public static func unlimited() -> RetryBudget {
        RetryBudget(options: Options(capacity: Int.max / 2, retryCost: 0, ambiguousRetryCost: 0, successReward: 0))
    }

    /// Tokens left.
    public var available: Int { tokens.load(ordering: .relaxed) }

    /// The cost of retrying a failure of `category`.
    public func cost(for category: FailureCategory) -> Int {
        category == .ambiguousNetwork ? options.ambiguousRetryCost : options.retryCost
    }

    /// Takes `cost` tokens if there are that many.
    /// - Returns: whether the retry may go ahead.
    public func tryAcquire(_ cost: Int) -> Bool {
        var current = tokens.load(ordering: .relaxed)
        while current >= cost {
            let (exchanged, found) = tokens.compareExchange(expected: current, desired: current - cost, ordering: .relaxed)
            if exchanged { return true }
            current = found
        }
        return false
    }

    /// Records a successful call: refunds the cost of its last retry, or rewards a first-time success.
    public func recordSuccess(refunding lastRetryCost: Int?) {
        let amount = lastRetryCost ?? options.successReward
        guard amount > 0 else { return }
        var current = tokens.load(ordering: .relaxed)
        while current < options.capacity {
            let (exchanged, found) = tokens.compareExchange(
                expected: current, desired: min(options.capacity, current + amount), ordering: .relaxed)
            if exchanged { return }
            current = found
        }
    }
}
