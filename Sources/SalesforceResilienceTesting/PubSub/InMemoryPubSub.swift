#if PubSub // the package trait that brings SalesforceResiliencePubSub
import Foundation
import SalesforceResilience
import SalesforceResiliencePubSub

/// An in-process Pub/Sub API event bus, for tests of subscribers and their handlers: topics with
/// replay ids and Avro payloads, pull-based flow control, keepalives on the clock, and the
/// faults the runbook chases.
///
/// - ``failNextStream(afterDelivering:)``: the next stream resets after some events (`UNAVAILABLE`);
///   ``dropOpenStreams()`` resets the open ones.
/// - ``silenceNextStream()``: the next stream never sends anything, keepalives included;
///   ``silenceOpenStreams()`` silences the open ones.
/// - ``expireSessions()``: every token in use is refused, on open streams too.
/// - ``retainOnly(last:of:)``: older events age out; a replay id before them is refused.
///
/// As the service does, it closes a stream that has had no pending request for
/// ``idleStreamLimit`` (60 s).
///
/// It speaks ``PubSubConnection``; the gRPC wire is not part of it.
public final class InMemoryPubSub: PubSubConnection, Sendable {
    /// The interval of keepalive responses on a stream with nothing to deliver. Default 270 s,
    /// the service's.
    public let keepaliveInterval: Duration
    /// How long a stream with no pending request stays open. 60 s, the service's.
    public let idleStreamLimit = Duration.seconds(60)
    let clock: any ResilienceClock
    let state = Lock(BusState())

    /// Creates an empty bus.
    public init(clock: any ResilienceClock, keepaliveInterval: Duration = .seconds(270)) {
        self.clock = clock
        self.keepaliveInterval = keepaliveInterval
    }

    struct BusState {
        var topics: [String: [PubSubReceivedEvent]] = [:]
        var retainedFrom: [String: Int] = [:]
        var schemas: [String: String] = [:]
        var faults: [Fault] = []
        var expiredTokens: Set<String> = []
        var streams: [Int: StreamState] = [:]
        var streamCounter = 0
        var subscriptions: [ReplayPreset] = []
        var delivered = 0
        var maxPending = 0
    }

    enum Fault { case dropAfter(Int), silent }

    struct StreamState {
        var topic: String
        var token: String
        var position: Int
        var pending = 0
        var deliveredHere = 0
        var fault: Fault?
        var lastSentAt: ResilienceInstant
        /// Since when nothing is requested; `nil` while a request is pending.
        var idleSince: ResilienceInstant?
        /// Whether a `next()` is waiting on it with nothing to deliver.
        var waiting = false
        var wake: AsyncStream<Void>.Continuation?
        var closed = false
    }

    // MARK: Publishing and faults

    /// Registers a schema by id.
    public func register(schemaID: String, json: String) {
        state.withLock { $0.schemas[schemaID] = json }
    }

    /// Publishes an event; returns its replay id.
    @discardableResult
    public func publish(topic: String, id: String, schemaID: String, payload: [UInt8]) -> Data {
        state.withLock { state in
            let index = state.topics[topic, default: []].count
            let replayID = Self.replayID(index)
            state.topics[topic, default: []].append(PubSubReceivedEvent(replayID: replayID, id: id, schemaID: schemaID, payload: payload))
            for key in state.streams.keys where state.streams[key]?.topic == topic { state.streams[key]?.wake?.yield() }
            return replayID
        }
    }

    /// The next stream opened resets (`UNAVAILABLE`) after delivering `count` events.
    public func failNextStream(afterDelivering count: Int) {
        state.withLock { $0.faults.append(.dropAfter(max(0, count))) }
    }

    /// The next stream opened never sends anything, keepalives included: a half-open connection.
    public func silenceNextStream() {
        state.withLock { $0.faults.append(.silent) }
    }

    /// Resets every stream open now (`UNAVAILABLE`) at its next step.
    public func dropOpenStreams() {
        state.withLock { state in
            for key in state.streams.keys where state.streams[key]?.closed == false {
                let delivered = state.streams[key]?.deliveredHere ?? 0
                state.streams[key]?.fault = .dropAfter(delivered)
                state.streams[key]?.wake?.yield()
            }
        }
    }

    /// Makes every stream open now go silent: no event, no keepalive, no close.
    public func silenceOpenStreams() {
        state.withLock { state in
            for key in state.streams.keys where state.streams[key]?.closed == false {
                state.streams[key]?.fault = .silent
                state.streams[key]?.wake?.yield()
            }
        }
    }

    /// Refuses every token in use now (`UNAUTHENTICATED`), on the streams already open too.
    public func expireSessions() {
        state.withLock { state in
            for key in state.streams.keys {
                if let token = state.streams[key]?.token { state.expiredTokens.insert(token) }
                state.streams[key]?.wake?.yield()
            }
        }
    }

    /// Drops all but the last `count` events of `topic` from retention: a replay id before them
    /// is refused as aged out.
    public func retainOnly(last count: Int, of topic: String) {
        state.withLock { state in
            let total = state.topics[topic]?.count ?? 0
            state.retainedFrom[topic] = max(0, total - max(0, count))
        }
    }

    /// Whether every open stream has a reader waiting with nothing to deliver (or none is
    /// open): a test that moves a virtual clock by hand moves it only then, so a subscriber busy
    /// with its events never sees its silence window pass.
    public var isQuiet: Bool {
        state.withLock { state in state.streams.values.allSatisfy { $0.closed || $0.waiting } }
    }

    /// Every subscription opened, with where it started.
    public var subscriptions: [ReplayPreset] { state.withLock { $0.subscriptions } }
    /// Events published on `topic` so far (retained or not).
    public func publishedCount(of topic: String) -> Int { state.withLock { $0.topics[topic]?.count ?? 0 } }
    /// Events delivered over every stream.
    public var delivered: Int { state.withLock { $0.delivered } }
    /// The most events any stream ever had requested and not delivered at once.
    public var maxPending: Int { state.withLock { $0.maxPending } }
    /// The replay id of event `index` (from 0) of any topic.
    public static func replayID(_ index: Int) -> Data { withUnsafeBytes(of: UInt64(index).bigEndian) { Data($0) } }

    // MARK: PubSubConnection

    /// Opens a stream; refuses an expired token and a replay id that has aged out.
    public func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream {
        let now = clock.now
        return try state.withLock { state in
            guard !state.expiredTokens.contains(token.value) else { throw PubSubError(.authentication, "UNAUTHENTICATED: session expired") }
            let count = state.topics[topic]?.count ?? 0
            let oldest = state.retainedFrom[topic] ?? 0
            let position: Int
            switch replay {
            case .latest: position = count
            case .earliest: position = oldest
            case .custom(let id):
                guard id.count == 8 else { throw PubSubError(.replayIDInvalid, "INVALID_ARGUMENT: replay id is corrupted") }
                let index = Int(id.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
                guard index + 1 >= oldest, index < count else { throw PubSubError(.replayIDInvalid, "INVALID_ARGUMENT: replay id \(index) is not retained") }
                position = index + 1
            }
            state.subscriptions.append(replay)
            state.streamCounter += 1
            let number = state.streamCounter
            let fault = state.faults.isEmpty ? nil : state.faults.removeFirst()
            state.streams[number] = StreamState(topic: topic, token: token.value, position: position, fault: fault, lastSentAt: now, idleSince: now)
            return Stream(bus: self, number: number)
        }
    }

    /// The registered schema.
    public func schema(id schemaID: String, token: AccessToken) async throws -> String {
        try state.withLock { state in
            guard !state.expiredTokens.contains(token.value) else { throw PubSubError(.authentication, "UNAUTHENTICATED: session expired") }
            guard let json = state.schemas[schemaID] else { throw PubSubError(.permanent, "NOT_FOUND: schema \(schemaID)") }
            return json
        }
    }

    /// One stream of the bus.
    final class Stream: PubSubStream {
        let bus: InMemoryPubSub
        let number: Int

        init(bus: InMemoryPubSub, number: Int) {
            self.bus = bus
            self.number = number
        }

        func request(_ count: Int) async throws {
            let now = bus.clock.now
            bus.state.withLock { state in
                guard var stream = state.streams[number], !stream.closed else { return }
                defer { state.streams[number] = stream }
                // The service closed it already: a request after its idle limit comes too late.
                if let since = stream.idleSince, now >= since + bus.idleStreamLimit {
                    stream.closed = true
                    stream.wake?.yield()
                    return
                }
                stream.pending = min(100, stream.pending + max(0, count))
                if stream.pending > 0 { stream.idleSince = nil }
                state.maxPending = max(state.maxPending, stream.pending)
                stream.wake?.yield()
            }
        }

        func cancel() {
            bus.state.withLock { state in
                state.streams[number]?.closed = true
                state.streams[number]?.wake?.yield()
            }
        }

        enum Step { case respond(PubSubFetchResponse), fail(PubSubError), end, wait(AsyncStream<Void>, until: ResilienceInstant?) }

        func next() async throws -> PubSubFetchResponse? {
            while true {
                try Task.checkCancellation()
                switch step() {
                case .respond(let response): return response
                case .fail(let error): throw error
                case .end: return nil
                case .wait(let wake, let until):
                    let clock = bus.clock
                    defer { bus.state.withLock { $0.streams[number]?.waiting = false } }
                    let timedOut = try await withThrowingTaskGroup(of: Bool.self) { group in
                        group.addTask {
                            for await _ in wake { return false }
                            return false
                        }
                        if let until {
                            group.addTask {
                                try await clock.sleep(until: until)
                                return true
                            }
                        }
                        defer { group.cancelAll() }
                        return try await group.next() ?? false
                    }
                    if timedOut, let response = keepaliveResponse() { return response }
                }
            }
        }

        /// What the stream does now, decided under the bus's lock.
        private func step() -> Step {
            let now = bus.clock.now
            return bus.state.withLock { state in
                guard var stream = state.streams[number], !stream.closed else { return .end }
                defer { state.streams[number] = stream }
                if let since = stream.idleSince, now >= since + bus.idleStreamLimit {
                    stream.closed = true
                    return .end
                }
                if state.expiredTokens.contains(stream.token) { return .fail(PubSubError(.authentication, "UNAUTHENTICATED: session expired")) }
                if case .dropAfter(let limit) = stream.fault, stream.deliveredHere >= limit {
                    stream.closed = true
                    return .fail(PubSubError(.unavailable, "UNAVAILABLE: stream reset by the server"))
                }
                let events = state.topics[stream.topic] ?? []
                var take = min(stream.pending, events.count - stream.position)
                if case .dropAfter(let limit) = stream.fault { take = min(take, limit - stream.deliveredHere) }
                if case .silent = stream.fault { take = 0 }
                if take > 0 {
                    let batch = Array(events[stream.position..<(stream.position + take)])
                    stream.position += take
                    stream.pending -= take
                    stream.deliveredHere += take
                    stream.lastSentAt = now
                    if stream.pending == 0 { stream.idleSince = now }
                    state.delivered += take
                    return .respond(PubSubFetchResponse(events: batch, latestReplayID: batch.last!.replayID, pendingNumRequested: stream.pending))
                }
                let (wake, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
                stream.wake = continuation
                stream.waiting = true
                let closesAt = stream.idleSince.map { $0 + bus.idleStreamLimit }
                if case .silent = stream.fault { return .wait(wake, until: closesAt) }
                let keepaliveAt = stream.lastSentAt + bus.keepaliveInterval
                return .wait(wake, until: closesAt.map { min($0, keepaliveAt) } ?? keepaliveAt)
            }
        }

        private func keepaliveResponse() -> PubSubFetchResponse? {
            let now = bus.clock.now
            return bus.state.withLock { state in
                guard var stream = state.streams[number], !stream.closed, now >= stream.lastSentAt + bus.keepaliveInterval else { return nil }
                stream.lastSentAt = now
                state.streams[number] = stream
                let events = state.topics[stream.topic] ?? []
                let latest = stream.position > 0 ? events[stream.position - 1].replayID : Data()
                return PubSubFetchResponse(events: [], latestReplayID: latest, pendingNumRequested: stream.pending)
            }
        }
    }
}
#endif
