/// Waits for `task`'s result, but gives up with `CancellationError` as soon as the waiting task
/// is cancelled; `task` itself runs on. (`await task.value` ignores the waiter's cancellation:
/// a caller whose deadline passed would stay stuck behind a fetch other callers share.)
func cancellableValue<T: Sendable>(of task: Task<T, any Error>) async throws -> T {
    let box = Lock<(waiter: CheckedContinuation<T, any Error>?, result: Result<T, any Error>?)>((nil, nil))
    @Sendable func resume(_ result: Result<T, any Error>) {
        let waiter: CheckedContinuation<T, any Error>? = box.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let settled: Result<T, any Error>? = box.withLock { state in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let settled { continuation.resume(with: settled); return }
            Task.detached { resume(await task.result) }
        }
    } onCancel: {
        resume(.failure(CancellationError()))
    }
}
