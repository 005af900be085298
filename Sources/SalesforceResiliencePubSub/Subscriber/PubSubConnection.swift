#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

/// What a ``PubSubSubscriber`` needs from the Pub/Sub API: the `Subscribe` stream and
/// `GetSchema`. The gRPC client implements it; `InMemoryPubSub` (SalesforceResilienceTesting)
/// is the in-process double that tests use.
public protocol PubSubConnection: Sendable {
    /// Opens a `Subscribe` stream on `topic` from `replay`, authorised by `token` (its access
    /// token, instance URL and tenant id as the call's metadata).
    ///
    /// - Throws: ``PubSubError``.
    func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream
    /// The schema JSON of `schemaID` (`GetSchema`).
    func schema(id schemaID: String, token: AccessToken) async throws -> String
}

/// One open `Subscribe` stream.
public protocol PubSubStream: Sendable {
    /// Asks for `count` more events (`FetchRequest.num_requested`, at most 100 pending).
    func request(_ count: Int) async throws
    /// The next `FetchResponse`: events, or none (a keepalive); `nil` when the server closed the
    /// stream. Cancellation ends the wait.
    ///
    /// - Throws: ``PubSubError``.
    func next() async throws -> PubSubFetchResponse?
    /// Closes the stream.
    func cancel()
}

/// Where a subscription starts.
public enum ReplayPreset: Sendable, Hashable {
    /// New events only.
    case latest
    /// Every event the bus still retains (about 72 hours).
    case earliest
    /// The events after this replay id.
    case custom(Data)
}

/// One `FetchResponse`.
public struct PubSubFetchResponse: Sendable, Hashable {
    /// The events, in order; empty for a keepalive.
    public var events: [PubSubReceivedEvent]
    /// The replay id of the latest event in the topic the server has passed.
    public var latestReplayID: Data
    /// Events requested and not delivered yet.
    public var pendingNumRequested: Int

    /// Creates a response.
    public init(events: [PubSubReceivedEvent], latestReplayID: Data, pendingNumRequested: Int) {
        self.events = events
        self.latestReplayID = latestReplayID
        self.pendingNumRequested = pendingNumRequested
    }
}

/// One event as the stream carries it (`ConsumerEvent`): not decoded yet.
public struct PubSubReceivedEvent: Sendable, Hashable {
    /// Its replay id: opaque bytes.
    public var replayID: Data
    /// The event's id (`ProducerEvent.id`: the `EventUuid`).
    public var id: String
    /// The id of the schema its payload is encoded with.
    public var schemaID: String
    /// The Avro payload.
    public var payload: [UInt8]

    /// Creates an event.
    public init(replayID: Data, id: String, schemaID: String, payload: [UInt8]) {
        self.replayID = replayID
        self.id = id
        self.schemaID = schemaID
        self.payload = payload
    }
}

/// A decoded event, as a subscriber's handler receives it.
public struct PubSubEvent: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// Its replay id.
    public var replayID: Data
    /// Its `EventUuid`.
    public var id: String
    /// Its fields, decoded by its schema.
    public var value: AvroValue
    /// The schema it was decoded with.
    public var schema: AvroSchema

    /// Creates an event, as the subscriber does after decoding one (and as a handler's tests do).
    public init(topic: String, replayID: Data, id: String, value: AvroValue, schema: AvroSchema) {
        self.topic = topic
        self.replayID = replayID
        self.id = id
        self.value = value
        self.schema = schema
    }
}

/// What a stream or a call of the Pub/Sub API failed with, as the subscriber acts on it.
public struct PubSubError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The decision it calls for.
    public enum Kind: Sendable, Hashable {
        /// The service or the connection failed (`UNAVAILABLE`, a reset stream, a lost
        /// connection): resubscribe from the stored replay id after a backoff.
        case unavailable
        /// The session is not accepted (`UNAUTHENTICATED`): refresh the token once and resubscribe.
        case authentication
        /// The replay id is no longer retained or not valid (`INVALID_ARGUMENT` with the
        /// replay-id-corrupted trailer): the subscription's aged-out policy decides.
        case replayIDInvalid
        /// Anything retrying cannot fix (a topic that does not exist, no permission).
        case permanent
    }

    /// The decision it calls for.
    public var kind: Kind
    /// The service's message (the gRPC status and its text), free of credentials.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// `kind: message`.
    public var description: String { "Pub/Sub API \(kind): \(message)" }
}
#endif
