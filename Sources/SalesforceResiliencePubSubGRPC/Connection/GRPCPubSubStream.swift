#if PubSubGRPC // the package trait that brings this module
import Foundation
import GRPCCore
import SalesforceResilience
import SalesforceResiliencePubSub

/// One `Subscribe` call, as a ``PubSubStream``: requests go out through an unbounded queue of
/// counts (a handful of integers: the subscriber asks for a batch at a time), responses come in
/// through a ``ResponseChannel`` that holds what the server sent and the subscriber has not read
/// (bounded by what was requested, plus keepalives).
final class GRPCPubSubStream: PubSubStream {
    typealias Producer = @Sendable (RPCWriter<Eventbus_V1_FetchRequest>) async throws -> Void
    typealias Consumer = @Sendable (StreamingClientResponse<Eventbus_V1_FetchResponse>) async throws -> Void

    private let requests: AsyncStream<Int>.Continuation
    private let responses = ResponseChannel<PubSubFetchResponse>()
    private let call: Task<Void, Never>

    init(topic: String, from replay: ReplayPreset, start: @escaping @Sendable (@escaping Producer, @escaping Consumer) async throws -> Void) {
        let (counts, requests) = AsyncStream<Int>.makeStream()
        self.requests = requests
        let responses = self.responses
        call = Task {
            do {
                try await start({ writer in
                    var first = true
                    for await count in counts {
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
                        try await writer.write(request)
                    }
                    // Never half-close: the call ends by cancellation or by the server. (A
                    // half-close racing a write is a fatal error in grpc-swift-nio-transport 2.9.)
                    while true { try await Task.sleep(for: .seconds(3_600)) }
                }, { response in
                    for try await message in response.messages {
                        responses.send(PubSubFetchResponse(
                            events: message.events.map {
                                PubSubReceivedEvent(replayID: $0.replayID, id: $0.event.id, schemaID: $0.event.schemaID, payload: [UInt8]($0.event.payload))
                            },
                            latestReplayID: message.latestReplayID,
                            pendingNumRequested: Int(message.pendingNumRequested)))
                    }
                })
                responses.finish(throwing: nil)
            } catch {
                responses.finish(throwing: PubSubStatus.error(from: error))
            }
        }
    }

    func request(_ count: Int) async throws {
        requests.yield(count)
    }

    func next() async throws -> PubSubFetchResponse? {
        try await responses.next()
    }

    func cancel() {
        requests.finish()
        call.cancel()
        responses.finish(throwing: nil)
    }

    deinit { cancel() }
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
