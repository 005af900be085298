#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

/// How a ``PubSubSubscriber`` reads its topic.
public struct SubscriptionOptions: Sendable, Hashable {
    /// Events asked for at a time (`num_requested`, 1…100). Default 50. While the handler works
    /// through one batch, the next is asked for as soon as the previous one has arrived, so the
    /// stream never waits without a pending request (Salesforce closes a stream that has none
    /// for 60 s) and at most two batches are held in memory.
    public var batchSize: Int
    /// Where a topic with no checkpoint starts. Default `.latest`.
    public var startWithoutCheckpoint: ReplayPreset
    /// A stream that sends nothing (no event, no keepalive) for this long is rebuilt. Default
    /// 300 s: the service sends a keepalive at least every 270 s.
    public var silenceWindow: Duration
    /// The wait before a resubscription after a failure, growing while failures continue and
    /// reset by the first response of a healthy stream. Default 500 ms doubling to 60 s, with
    /// equal jitter.
    public var resubscribeBackoff: Backoff
    /// What to do when the service no longer retains the stored replay id. Default ``AgedOutReplayPolicy/fail``.
    public var agedOutReplay: AgedOutReplayPolicy

    /// Creates options.
    public init(batchSize: Int = 50, startWithoutCheckpoint: ReplayPreset = .latest, silenceWindow: Duration = .seconds(300),
                resubscribeBackoff: Backoff = Backoff(initial: .milliseconds(500), multiplier: 2, maximum: .seconds(60)),
                agedOutReplay: AgedOutReplayPolicy = .fail) {
        self.batchSize = min(100, max(1, batchSize))
        self.startWithoutCheckpoint = startWithoutCheckpoint
        self.silenceWindow = silenceWindow.atLeast(.seconds(1))
        self.resubscribeBackoff = resubscribeBackoff
        self.agedOutReplay = agedOutReplay
    }
}

/// What a subscription does when its stored replay id has aged out of the event bus.
public enum AgedOutReplayPolicy: Sendable, Hashable {
    /// Stop with ``SubscriptionError/replayIDAgedOut(topic:replayID:)``: an operator decides
    /// how to recover what was missed.
    case fail
    /// Start again from the oldest event retained, and report ``SubscriptionEvent/replayIDAgedOut(topic:storedReplayID:resumedFrom:)``.
    /// Events between the stored id and the oldest retained are lost.
    case resumeFromEarliest
    /// Start again from new events only, and report the same event. Everything published since
    /// the stored id is skipped.
    case resumeFromLatest
}

/// Why ``PubSubSubscriber/run(_:)`` stopped.
public enum SubscriptionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stored replay id is no longer retained and the policy is ``AgedOutReplayPolicy/fail``.
    case replayIDAgedOut(topic: String, replayID: Data)
    /// The session was refused again right after a token refresh.
    case authenticationFailed(topic: String, message: String)
    /// The service refused the subscription for a reason retrying cannot fix.
    case rejected(topic: String, message: String)
    /// An event's payload or schema did not decode; the checkpoint stays before it.
    case undecodable(topic: String, replayID: Data, reason: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .replayIDAgedOut(let topic, let id):
            "the stored replay id \(id.base64EncodedString()) of \(topic) is no longer retained; resubscribe from EARLIEST and reconcile the gap, or choose an aged-out policy"
        case .authenticationFailed(let topic, let message): "subscription to \(topic) refused after a token refresh: \(message)"
        case .rejected(let topic, let message): "subscription to \(topic) refused: \(message)"
        case .undecodable(let topic, let id, let reason): "an event of \(topic) at replay id \(id.base64EncodedString()) does not decode: \(reason)"
        }
    }
}

/// What a subscription reports as it goes.
public enum SubscriptionEvent: Sendable, Hashable {
    /// A stream is open from this preset.
    case subscribed(topic: String, from: ReplayPreset)
    /// The stream failed or went silent; a new one follows after `delay`.
    case resubscribing(topic: String, reason: String, delay: Duration)
    /// The stored replay id had aged out; the subscription resumed from `resumedFrom`.
    case replayIDAgedOut(topic: String, storedReplayID: Data, resumedFrom: ReplayPreset)
    /// An event redelivered after it was handled was skipped.
    case duplicateSkipped(topic: String, eventID: String)
}

/// A subscription's state, for `/ready` and the runbook's "events not receiving" branch.
public struct SubscriptionStatus: Sendable, Hashable {
    /// Where it is.
    public enum State: Sendable, Hashable {
        /// Not subscribed yet.
        case starting
        /// A stream is open.
        case subscribed
        /// Waiting to subscribe again after a failure.
        case resubscribing
        /// ``PubSubSubscriber/run(_:)`` ended, with why.
        case stopped(String)
    }

    /// Where it is.
    public var state: State = .starting
    /// Events the handler finished.
    public var handled = 0
    /// Events skipped as already handled.
    public var duplicatesSkipped = 0
    /// Streams opened again after a failure or a silence.
    public var resubscribes = 0
    /// Streams rebuilt because they sent nothing within ``SubscriptionOptions/silenceWindow``.
    public var silentStreamsRebuilt = 0
    /// Keepalive responses received.
    public var keepalives = 0
    /// When the handler last finished an event.
    public var lastEventAt: Date?
    /// When the stream last said anything (an event or a keepalive).
    public var lastHeardAt: Date?

    /// A status before anything happened (``State/starting``, nothing counted), as a new
    /// subscriber's is; tests of code that reads a status build one from it.
    public init() {}
}
#endif
