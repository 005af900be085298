#if PostgreSQL // the package trait that brings this module's dependencies
import Foundation
import Synchronization

extension FleetDatabase {
    /// Runs `body` — one store operation's queries — but stops waiting for it after
    /// ``queryTimeout`` and throws ``PostgresStoreError`` (transient) instead: a frozen server
    /// (stopped, or a network that drops packets without a reset) answers nothing and resets
    /// nothing, and without this bound a worker, its health checks and its shutdown would wait
    /// for it indefinitely. The abandoned operation is cancelled and finishes or fails on its own;
    /// every store operation is safe to repeat (claims, fenced settles, upserts by key).
    @discardableResult
    func bounded<T: Sendable>(_ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Self.bounded(what, timeout: queryTimeout, body)
    }

    /// ``bounded(_:_:)`` with a timeout of the caller's.
    @discardableResult
    static func bounded<T: Sendable>(_ what: String, timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = FirstResult<T>()
        let work = Task { race.settle(await Result(catching: { try await body() })) }
        let timer = Task {
            try await Task.sleep(for: timeout)
            work.cancel()
            race.settle(.failure(PostgresStoreError("PostgreSQL did not answer \(what) within \(timeout): the server is stopped, frozen or unreachable",
                                                    isTransient: true)))
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.wait(continuation)
            }
        } onCancel: {
            work.cancel()
            race.settle(.failure(CancellationError()))
        }
    }
}

/// The first of several results, handed to one waiter.
final class FirstResult<T: Sendable>: Sendable {
    private let state = Mutex<(waiter: CheckedContinuation<T, any Error>?, result: Result<T, any Error>?)>((nil, nil))

    /// Keeps `result` if it is the first, and resumes the waiter with it.
    func settle(_ result: Result<T, any Error>) {
        let waiter: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    /// Resumes `continuation` with the first result, now or when it comes.
    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let settled: Result<T, any Error>? = state.withLock { state in
            if state.result == nil { state.waiter = continuation }
            return state.result
        }
        if let settled { continuation.resume(with: settled) }
    }
}

extension Result where Failure == any Error {
    /// The result of `body`.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
#endif
