#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

/// Reads one topic of the Pub/Sub API into a handler, at least once, in order, and keeps its
/// place in a ``ReplayStore``.
///
/// - **Checkpoints.** After the handler returns for an event, its replay id and `EventUuid` are
///   saved; a keepalive's latest replay id is saved too once every event before it is handled,
///   so a quiet topic's stored id does not age out. After a crash the subscription resumes
///   after the last event handled. An event whose `EventUuid` is among the last 500 handled is
///   skipped (``SubscriptionEvent/duplicateSkipped(topic:eventID:)``).
/// - **Flow control.** ``SubscriptionOptions/batchSize`` events are asked for at a time; the next
///   batch is asked for when the previous one has all arrived, so at most two are held while the
///   handler works and the stream always has a pending request.
/// - **Stream health.** A failed stream (``PubSubError/Kind/unavailable``), a stream the server
///   closed, and a stream silent for ``SubscriptionOptions/silenceWindow`` are replaced by a new
///   one from the stored replay id, after ``SubscriptionOptions/resubscribeBackoff``.
/// - **Authentication.** A refused session refreshes the token once through the ``TokenStore``
///   (one refresh for every caller) and resubscribes; refused again at once, the run stops.
/// - **An aged-out replay id** follows ``SubscriptionOptions/agedOutReplay``.
/// - **A circuit breaker**, if given (for example the client's for the org, so that the REST
///   calls and the subscription share their view of an outage): each stream is admitted by it; a
///   stream that fails or goes silent before its first response counts as a failure, its first
///   response as a success. While it is open the subscriber waits for its next probe instead of
///   its own backoff.
///
/// A handler that throws stops the run with its error; the event is not checkpointed, so it
/// comes again on the next run.
public actor PubSubSubscriber {
    /// The topic, such as `/event/Payment_Requested__e`.
    public nonisolated let topic: String
    /// The options in force.
    public nonisolated let options: SubscriptionOptions
    private let connection: any PubSubConnection
    private let tokens: TokenStore
    private let store: any ReplayStore
    private let clock: any ResilienceClock
    private let random: RandomSource
    private let onEvent: @Sendable (SubscriptionEvent) -> Void
    private let breaker: CircuitBreaker?
    private var schemas: [String: AvroSchema] = [:]
    private var checkpoint: ReplayCheckpoint?
    /// Where to start instead of the checkpoint, after its replay id aged out; cleared when the
    /// checkpoint moves.
    private var presetOverride: ReplayPreset?
    /// Where the subscription is; read it for `/ready` and the runbook.
    public private(set) var status = SubscriptionStatus()

    /// Creates a subscriber; nothing happens until ``run(_:)``.
    public init(topic: String, connection: any PubSubConnection, tokens: TokenStore, store: any ReplayStore,
                options: SubscriptionOptions = SubscriptionOptions(), clock: any ResilienceClock = SystemClock(),
                random: RandomSource = .system(), breaker: CircuitBreaker? = nil,
                onEvent: @escaping @Sendable (SubscriptionEvent) -> Void = { _ in }) {
        self.topic = topic
        self.breaker = breaker
        self.connection = connection
        self.tokens = tokens
        self.store = store
        self.options = options
        self.clock = clock
        self.random = random
        self.onEvent = onEvent
    }

    /// A stream that said nothing within the silence window.
    private struct Silent: Error {}

    /// Subscribes and hands every event to `handler`, one at a time, until cancelled (or a
    /// failure retrying cannot fix: ``SubscriptionError``, a store error, the handler's error).
    public func run(_ handler: @escaping @Sendable (PubSubEvent) async throws -> Void) async throws {
        do {
            try await subscribeLoop(handler)
        } catch {
            status.state = .stopped(String(describing: error))
            throw error
        }
    }

    private func subscribeLoop(_ handler: @escaping @Sendable (PubSubEvent) async throws -> Void) async throws {
        checkpoint = try await store.checkpoint(for: topic)
        var failures = 0
        var refreshedFor: AccessToken?
        while true {
            try Task.checkCancellation()
            // Every stream starts after the last event handled; an aged-out id's replacement
            // holds until the checkpoint moves.
            var preset = presetOverride ?? checkpoint.map { ReplayPreset.custom($0.replayID) } ?? options.startWithoutCheckpoint
            let token = try await tokens.token()
            let reason: String
            // The breaker's admission until its outcome is recorded (once): whether this stream
            // is a probe. `nil` without a breaker, and once settled.
            var probe: Bool?
            do {
                probe = try breaker?.acquire(operation: "pubsub.subscribe \(topic)")
            } catch let open as CircuitOpenError {
                let wait = max(.milliseconds(1), open.retryAt.map { $0 - clock.now } ?? options.resubscribeBackoff.maximum)
                status.state = .resubscribing
                onEvent(.resubscribing(topic: topic, reason: "the circuit breaker \(open.key) is open", delay: wait))
                try await clock.sleep(until: clock.now + wait)
                continue
            }
            func settle(_ outcome: CircuitBreaker.Outcome) {
                guard let breaker, let isProbe = probe else { return }
                breaker.record(outcome, probe: isProbe)
                probe = nil
            }
            do {
                let stream = try await connection.subscribe(topic: topic, from: preset, token: token)
                status.state = .subscribed
                onEvent(.subscribed(topic: topic, from: preset))
                defer { stream.cancel() }
                try await consume(stream, token: token, handler: handler, healthy: {
                    failures = 0
                    refreshedFor = nil
                    settle(.success)
                })
                reason = "the server closed the stream"
                settle(.failure(retryAfter: nil))
            } catch let error as PubSubError {
                settle(error.kind == .unavailable ? .failure(retryAfter: nil) : .ignored)
                switch error.kind {
                case .authentication:
                    if refreshedFor == token { throw SubscriptionError.authenticationFailed(topic: topic, message: error.message) }
                    refreshedFor = try await tokens.refresh(replacing: token)
                    continue
                case .replayIDInvalid:
                    guard case .custom(let stored) = preset else { throw SubscriptionError.rejected(topic: topic, message: error.message) }
                    switch options.agedOutReplay {
                    case .fail: throw SubscriptionError.replayIDAgedOut(topic: topic, replayID: stored)
                    case .resumeFromEarliest: preset = .earliest
                    case .resumeFromLatest: preset = .latest
                    }
                    presetOverride = preset
                    onEvent(.replayIDAgedOut(topic: topic, storedReplayID: stored, resumedFrom: preset))
                    continue
                case .permanent:
                    throw SubscriptionError.rejected(topic: topic, message: error.message)
                case .unavailable:
                    reason = error.message
                }
            } catch is Silent {
                settle(.failure(retryAfter: nil))
                status.silentStreamsRebuilt += 1
                reason = "no message or keepalive within \(options.silenceWindow)"
            } catch {
                // The handler, the store or a cancellation: says nothing about the service, and
                // a shared breaker's probe must not stay taken.
                settle(.ignored)
                throw error
            }
            failures += 1
            status.resubscribes += 1
            status.state = .resubscribing
            let delay = options.resubscribeBackoff.delay(forRetry: failures, unit: random.nextUnit())
            onEvent(.resubscribing(topic: topic, reason: reason, delay: delay))
            try await clock.sleep(until: clock.now + delay)
        }
    }

    /// Reads `stream` until it ends, handling and checkpointing each event.
    private func consume(_ stream: any PubSubStream, token: AccessToken, handler: @Sendable (PubSubEvent) async throws -> Void,
                         healthy: () -> Void) async throws {
        try await stream.request(options.batchSize)
        while true {
            guard let response = try await nextWithin(stream, window: options.silenceWindow) else { return }
            healthy()
            status.lastHeardAt = clock.wallClockNow
            // The next batch is asked for once the last one has all arrived, before the handler
            // works through it: the stream is never without a pending request.
            if response.pendingNumRequested == 0 { try await stream.request(options.batchSize) }
            if response.events.isEmpty {
                status.keepalives += 1
                // Every event before the keepalive is handled: its replay id is a safe place.
                if !response.latestReplayID.isEmpty, response.latestReplayID != checkpoint?.replayID {
                    try await save((checkpoint ?? ReplayCheckpoint(replayID: Data(), savedAt: clock.wallClockNow))
                        .advanced(to: response.latestReplayID, eventID: nil, at: clock.wallClockNow))
                }
                continue
            }
            for received in response.events {
                if checkpoint?.handled(received.id) == true {
                    status.duplicatesSkipped += 1
                    onEvent(.duplicateSkipped(topic: topic, eventID: received.id))
                } else {
                    try await handler(try await decode(received, token: token))
                    status.handled += 1
                    status.lastEventAt = clock.wallClockNow
                }
                try await save((checkpoint ?? ReplayCheckpoint(replayID: Data(), savedAt: clock.wallClockNow))
                    .advanced(to: received.replayID, eventID: received.id, at: clock.wallClockNow))
            }
        }
    }

    private func save(_ next: ReplayCheckpoint) async throws {
        try await store.save(next, for: topic)
        checkpoint = next
        presetOverride = nil
    }

    /// The stream's next response, or ``Silent`` when it says nothing within `window`.
    private nonisolated func nextWithin(_ stream: any PubSubStream, window: Duration) async throws -> PubSubFetchResponse? {
        let clock = self.clock
        let deadline = clock.now + window
        return try await withThrowingTaskGroup(of: PubSubFetchResponse?.self) { group in
            group.addTask { try await stream.next() }
            group.addTask {
                try await clock.timeout(at: deadline)
                throw Silent()
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// `received` decoded by its schema (fetched once per schema id).
    private func decode(_ received: PubSubReceivedEvent, token: AccessToken) async throws -> PubSubEvent {
        let schema: AvroSchema
        if let cached = schemas[received.schemaID] {
            schema = cached
        } else {
            let json = try await connection.schema(id: received.schemaID, token: token)
            do { schema = try AvroSchema(json: json) } catch {
                throw SubscriptionError.undecodable(topic: topic, replayID: received.replayID, reason: "schema \(received.schemaID): \(error)")
            }
            schemas[received.schemaID] = schema
        }
        do {
            let value = try AvroDecoder().decode(received.payload, as: schema)
            return PubSubEvent(topic: topic, replayID: received.replayID, id: received.id, value: value, schema: schema)
        } catch {
            throw SubscriptionError.undecodable(topic: topic, replayID: received.replayID, reason: String(describing: error))
        }
    }
}
#endif
