#if PubSubGRPC // the package trait that brings this module
import Foundation
import GRPCCore
import SalesforceResilience
import SalesforceResiliencePubSub

/// One `Subscribe` call, as a ``PubSubStream``: requests go out through an unbounded queue of
/// counts (a handful of integers: the subscriber asks for a batch at a time), responses come in
/// through a ``ResponseChannel`` that holds what the server sent and the subscriber has not read
/// (bounded by what was requested, plus keepalives).
///
/// **How the call ends.** Never by cancelling its task and never by half-closing: either races
/// a request being written, and grpc-swift-nio-transport 2.9 stops the process with a fatal
/// error when a write reaches a stream it has closed. Instead the response reader, once the
/// server has ended the stream or ``cancel()`` asked it to stop, first stops the request
/// producer and waits until its last write is handed over (``Quiesce``), and only then returns,
/// which lets gRPC close the stream (with `RST_STREAM` if the server had not ended it).
final class GRPCPubSubStream: PubSubStream {
    typealias Producer = @Sendable (RPCWriter<Eventbus_V1_FetchRequest>) async throws -> Void
    typealias Consumer = @Sendable (StreamingClientResponse<Eventbus_V1_FetchResponse>) async throws -> Void

    private let requests: AsyncStream<Int>.Continuation
    private let responses = ResponseChannel<PubSubFetchResponse>()
    private let quiesce: Quiesce

    init(topic: String, from replay: ReplayPreset, start: @escaping @Sendable (@escaping Producer, @escaping Consumer) async throws -> Void) {
        let (counts, requests) = AsyncStream<Int>.makeStream()
        self.requests = requests
        let responses = self.responses
        let quiesce = Quiesce(requests: requests)
        self.quiesce = quiesce
        Task {
            do {
                try await start({ writer in
                    guard quiesce.producerStarts() else { try await Self.holdOpen() }
                    var first = true
                    for await count in counts {
                        guard !quiesce.isStopping else { break }
                        var request = Eventbus_V1_FetchRequest()
                        request.numRequested = Int32(clamping: count)
                        if first {
                            request.topicName = topic
                            switch replay {
                            case .latest: request.replayPreset = .latest
                            case .earliest: request.replayPreset = .earliest
                            case .custom(let id):
                                request.replayPreset = .custom
                                request.replayID = id
                            }
                            first = false
                        }
                        do {
                            try await writer.write(request)
                        } catch {
                            quiesce.producerExits()
                            throw error
                        }
                    }
                    quiesce.producerExits()
                    try await Self.holdOpen()
                }, { response in
                    // Read until the server ends the stream or cancel() asks to stop.
                    let ending: Result<Void, any Error> = await withTaskGroup(of: Result<Void, any Error>?.self) { group in
                        group.addTask {
                            do {
                                for try await message in response.messages {
                                    responses.send(Self.fetchResponse(message))
                                }
                                return .success(())
                            } catch {
                                return .failure(error)
                            }
                        }
                        group.addTask {
                            await quiesce.stopRequested()
                            return nil
                        }
                        defer { group.cancelAll() }
                        return await group.next().flatMap { $0 } ?? .success(())
                    }
                    await quiesce.stopProducer()
                    try ending.get()
                })
                responses.finish(throwing: nil)
            } catch {
                responses.finish(throwing: PubSubStatus.error(from: error))
            }
        }
    }

    /// Keeps the request side open (no half-close) until gRPC cancels the producer.
    private static func holdOpen() async throws -> Never {
        while true { try await Task.sleep(for: .seconds(3_600)) }
    }

    private static func fetchResponse(_ message: Eventbus_V1_FetchResponse) -> PubSubFetchResponse {
        PubSubFetchResponse(
            events: message.events.map {
                PubSubReceivedEvent(replayID: $0.replayID, id: $0.event.id, schemaID: $0.event.schemaID, payload: [UInt8]($0.event.payload))
            },
            latestReplayID: message.latestReplayID,
            pendingNumRequested: Int(message.pendingNumRequested))
    }

    func request(_ count: Int) async throws {
        requests.yield(count)
    }

    func next() async throws -> PubSubFetchResponse? {
        try await responses.next()
    }

    /// Asks the call to end (see the type's note) and ends the reader's wait at once.
    func cancel() {
        quiesce.requestStop()
        responses.finish(throwing: nil)
    }

    deinit { cancel() }
}

/// The handshake that ends a call only once its request producer has stopped writing.
final class Quiesce: Sendable {
    private struct State {
        var stopRequested = false
        var stopping = false
        var started = false
        var exited = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var exitWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Lock(State())
    private let requests: AsyncStream<Int>.Continuation

    init(requests: AsyncStream<Int>.Continuation) {
        self.requests = requests
    }

    /// Whether the producer may write: `false` once the call is ending.
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// The producer begins; `false` if the call is already ending.
    func producerStarts() -> Bool {
        state.withLock { state in
            state.started = true
            if state.stopping { state.exited = true }
            return !state.stopping
        }
    }

    /// The producer will write no more.
    func producerExits() {
        let waiters = state.withLock { state in
            state.exited = true
            defer { state.exitWaiters = [] }
            return state.exitWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// ``cancel()``: wakes the reader's ``stopRequested()``.
    func requestStop() {
        let waiters = state.withLock { state in
            state.stopRequested = true
            defer { state.stopWaiters = [] }
            return state.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a stop is requested (or the waiting task is cancelled).
    func stopRequested() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state in
                    if state.stopRequested || Task.isCancelled { return true }
                    state.stopWaiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            requestStop()
        }
    }

    /// Stops the producer and returns once its last write is handed over (at once if it never
    /// started).
    func stopProducer() async {
        requests.finish()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                state.stopping = true
                if !state.started || state.exited { return true }
                state.exitWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}

/// A single-reader queue from a producing task to a reader that may be cancelled while it waits.
final class ResponseChannel<Element: Sendable>: Sendable {
    private struct State {
        var buffer: [Element] = []
        /// Set once: `.success` for a clean end, `.failure` for an error.
        var end: Result<Void, any Error>?
        var reader: CheckedContinuation<Element?, any Error>?
    }

    private let state = Lock(State())

    /// Hands `element` to the waiting reader, or keeps it. Ignored after the end.
    func send(_ element: Element) {
        let reader: CheckedContinuation<Element?, any Error>? = state.withLock { state in
            guard state.end == nil else { return nil }
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.buffer.append(element)
            return nil
        }
        reader?.resume(returning: element)
    }

    /// Ends the channel: the reader gets what is buffered, then `nil` (or `error`). The first end wins.
    func finish(throwing error: (any Error)?) {
        let reader: CheckedContinuation<Element?, any Error>? = state.withLock { state in
            guard state.end == nil else { return nil }
            state.end = error.map { .failure($0) } ?? .success(())
            defer { state.reader = nil }
            return state.reader
        }
        if let error { reader?.resume(throwing: error) } else { reader?.resume(returning: nil) }
    }

    /// The next element; `nil` after a clean end. Cancelling the reader ends its wait with
    /// `CancellationError` and leaves the channel as it was.
    func next() async throws -> Element? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                let ready: Result<Element?, any Error>? = state.withLock { state in
                    if !state.buffer.isEmpty { return .success(state.buffer.removeFirst()) }
                    if let end = state.end { return end.map { nil } }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.reader = continuation
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let reader = state.withLock { state in
                defer { state.reader = nil }
                return state.reader
            }
            reader?.resume(throwing: CancellationError())
        }
    }
}
#endif
