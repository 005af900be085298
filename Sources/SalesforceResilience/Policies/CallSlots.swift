/// A client-wide limit on calls in flight at once, shared by every caller: a counting semaphore
/// whose waiters are served in arrival order.
///
/// ``SalesforceClient`` holds one for sObject Collections calls
/// (``SalesforceConfiguration/collectionsCallLimit``): an ``Outbox`` draining several batches at
/// once, a caller's own ``SalesforceClient/upsertCollection(_:externalIdField:records:allOrNone:priority:)``
/// chunks and every other writer share it, so together they stay under Salesforce's limit of 25
/// long-running requests per org.
///
/// A waiter that is cancelled leaves the queue at once and takes no slot.
public final class CallSlots: Sendable {
    private struct State {
        var available: Int
        var inUse = 0
        var highWater = 0
        var nextID = 0
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    /// The most slots in use at once.
    public let limit: Int
    private let state: Lock<State>

    /// Creates `limit` slots (at least one).
    public init(limit: Int) {
        self.limit = max(1, limit)
        self.state = Lock(State(available: max(1, limit)))
    }

    /// Slots in use now.
    public var inUse: Int { state.withLock { $0.inUse } }

    /// The most slots that were ever in use at once.
    public var highWater: Int { state.withLock { $0.highWater } }

    /// Runs `body` holding a slot, waiting for one first if all are taken.
    ///
    /// - Throws: `CancellationError` if the task is cancelled while waiting; what `body` throws.
    public func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: Int? = state.withLock { state in
            if state.available > 0 {
                state.available -= 1
                state.inUse += 1
                state.highWater = max(state.highWater, state.inUse)
                return nil
            }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLock { state in
                    if Task.isCancelled { return true }
                    state.waiters.append((id, continuation))
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            if state.waiters.isEmpty {
                state.available += 1
                state.inUse -= 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
