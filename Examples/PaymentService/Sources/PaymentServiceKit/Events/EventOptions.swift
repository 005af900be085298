import Foundation
import SalesforceResiliencePubSub

/// What the `events` command reads and where it writes: a payment-request topic in, one result
/// record per event out (upserted by the event's id through the outbox).
public struct EventOptions: Sendable, Equatable {
    /// The topic. Default `/event/Payment_Requested__e`.
    public var topic = "/event/Payment_Requested__e"
    /// The sObject results are written to. Default `Payment_Result__c`.
    public var resultSObject = "Payment_Result__c"
    /// The result's external id field, which holds the event's `EventUuid`: a redelivered event
    /// updates its result instead of adding one. Default `Event_Id__c`.
    public var eventIdField = "Event_Id__c"
    /// The Pub/Sub API endpoint, `host:port`; `nil`: `api.pubsub.salesforce.com:7443` against a
    /// real org, the embedded event bus otherwise.
    public var endpoint: String?
    /// Speak plaintext HTTP/2 to the endpoint (a local simulator only; Salesforce needs TLS).
    public var plaintext = false
    /// The org id sent as `tenantid`; `nil`: taken from the token's identity URL.
    public var tenantID: String?
    /// Where the last replay id handled is kept without PostgreSQL. Default `paymentservice.replay`.
    public var replayFile = "paymentservice.replay"
    /// Events asked for at a time (1…100). Default 100.
    public var batchSize = 100
    /// A stream silent this long is rebuilt. Default 300 s (the service sends a keepalive
    /// within 270 s).
    public var silenceWindow: Duration = .seconds(300)
    /// Where a topic with no stored replay id starts. Default `.earliest`: every request the
    /// bus still holds (72 hours for high-volume platform events) is worked.
    public var startWithoutCheckpoint: ReplayPreset = .earliest
    /// What to do when the stored replay id has aged out. Default `.fail`.
    public var agedOutReplay: AgedOutReplayPolicy = .fail

    /// The defaults.
    public init() {}

    /// The endpoint's host and port, or `nil` when the text is not `host:port`.
    public static func hostAndPort(_ endpoint: String) -> (host: String, port: Int)? {
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
              (1...65_535).contains(port), colon > endpoint.startIndex else { return nil }
        return (String(endpoint[..<colon]), port)
    }
}
