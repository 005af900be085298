/// Runs `body`, cut off at `deadline` on `clock`: if `body` has not finished by then it is
/// cancelled and `expired()` is thrown. Used by ``DeadlineMiddleware`` (a call's budget) and by
/// ``Outbox`` (a batch must end before its claim's lease does).
///
/// The guard is a timer racing the body in a task group, so it costs a child task or two per
/// call; `body` must answer cancellation for the cut to take effect promptly.
func withTimeLimit<T: Sendable>(
    at deadline: ResilienceInstant, clock: any ResilienceClock, expired: @escaping @Sendable () -> any Error,
    _ body: @Sendable () async throws -> T
) async throws -> T {
    // The group waits for both children before it returns, so `body` does not outlive this call.
    try await withoutActuallyEscaping(body) { body in
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await clock.timeout(at: deadline)
                throw expired()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            return first
        }
    }
}
