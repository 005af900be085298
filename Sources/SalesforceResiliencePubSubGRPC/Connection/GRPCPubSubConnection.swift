#if PubSubGRPC // the package trait that brings this module
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import SalesforceResilience
import SalesforceResiliencePubSub

/// The Pub/Sub API over gRPC (`eventbus.v1.PubSub` on HTTP/2): the ``PubSubConnection`` a
/// ``PubSubSubscriber`` reads a topic through in production.
///
/// Every call carries the session as the service asks: the metadata `accesstoken`,
/// `instanceurl` and `tenantid`. Failures come back as ``PubSubError``, classified from the
/// gRPC status and the service's `error-code` trailer (``PubSubStatus``).
///
/// One connection serves any number of subscribers; it keeps one HTTP/2 connection to the
/// service, with keepalive pings (``Configuration/keepalive``). Call ``shutdown()`` when done.
///
/// ```swift
/// let connection = try GRPCPubSubConnection()
/// let subscriber = PubSubSubscriber(topic: "/event/Payment_Requested__e", connection: connection,
///                                   tokens: tokens, store: FileReplayStore(path: "state/payments.replay"))
/// try await subscriber.run { event in try await handle(event) }
/// ```
public final class GRPCPubSubConnection: PubSubConnection {
    /// Where the service is and how the connection behaves.
    public struct Configuration: Sendable {
        /// The service's host. Default `api.pubsub.salesforce.com` (port 7443); Salesforce also
        /// serves `api.deu.pubsub.salesforce.com` for orgs in its German region.
        public var host: String
        /// The service's port. Default 7443.
        public var port: Int
        /// Whether to use TLS, with the system's trust roots and the host name verified.
        /// Default `true`; `false` only for a loopback simulator.
        public var usesTLS: Bool
        /// The org id sent as `tenantid`. Default `nil`: taken from the token's identity URL
        /// (`…/id/<org id>/<user id>`), which every OAuth flow returns.
        public var tenantID: String?
        /// HTTP/2 keepalive: a ping after `time` with nothing read, and the connection dropped
        /// (every stream on it fails as ``PubSubError/Kind/unavailable``) if no answer comes
        /// within `timeout`. Default 280 s and 20 s: the service sends a keepalive response at
        /// least every 270 s, so a ping goes out only when it has gone quiet; pinging more
        /// often than every 5 minutes on a quiet stream risks the server's `too_many_pings`.
        /// `timeout` is kept under half of `time`: grpc-swift-nio-transport sends the next ping on
        /// schedule and restarts the wait for an answer with it, so a longer wait never ends.
        public var keepalive: (time: Duration, timeout: Duration)?
        /// The longest a `GetSchema` call may take. Default 30 s.
        public var callTimeout: Duration

        /// Creates a configuration.
        public init(host: String = "api.pubsub.salesforce.com", port: Int = 7443, usesTLS: Bool = true, tenantID: String? = nil,
                    keepalive: (time: Duration, timeout: Duration)? = (.seconds(280), .seconds(20)),
                    callTimeout: Duration = .seconds(30)) {
            self.host = host
            self.port = port
            self.usesTLS = usesTLS
            self.tenantID = tenantID
            self.keepalive = keepalive
            self.callTimeout = callTimeout
        }
    }

    /// The configuration in force.
    public let configuration: Configuration
    private let client: GRPCClient<HTTP2ClientTransport.Posix>
    private let connections: Task<Void, Never>

    /// Creates the connection and starts connecting in the background.
    ///
    /// - Throws: `RuntimeError` from gRPC when the host cannot be resolved into a target.
    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        var config = HTTP2ClientTransport.Posix.Config.defaults
        if let keepalive = configuration.keepalive {
            let timeout = min(keepalive.timeout, keepalive.time / 2)
            config.connection.keepalive = .init(time: keepalive.time, timeout: timeout, allowWithoutCalls: false)
        }
        let transport = try HTTP2ClientTransport.Posix(
            target: .dns(host: configuration.host, port: configuration.port),
            transportSecurity: configuration.usesTLS ? .tls : .plaintext,
            config: config
        )
        let client = GRPCClient(transport: transport)
        self.client = client
        connections = Task { try? await client.runConnections() }
    }

    /// Closes the connection: new calls fail, calls in flight may finish for `gracePeriod`, then
    /// everything is closed (a connection attempt lost in a half-open network would otherwise
    /// hold a graceful shutdown forever). Returns when it is closed.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        client.beginGracefulShutdown()
        let connections = self.connections
        let deadline = Task {
            try await Task.sleep(for: gracePeriod)
            connections.cancel()
        }
        await connections.value
        deadline.cancel()
    }

    deinit { client.beginGracefulShutdown() }

    private var service: Eventbus_V1_PubSub.Client<HTTP2ClientTransport.Posix> { .init(wrapping: client) }

    /// The call metadata the service authenticates: `accesstoken`, `instanceurl`, `tenantid`.
    func metadata(for token: AccessToken) throws -> Metadata {
        guard let instance = token.instanceURL?.absoluteString else {
            throw PubSubError(.permanent, "the access token has no instance URL, which the Pub/Sub API needs as instanceurl")
        }
        guard let tenant = configuration.tenantID ?? Self.orgID(fromIdentityURL: token.identityURL) else {
            throw PubSubError(.permanent, "no org id for tenantid: set GRPCPubSubConnection.Configuration.tenantID, or use a token with an identity URL")
        }
        var metadata = Metadata()
        metadata.addString(token.value, forKey: "accesstoken")
        metadata.addString(instance, forKey: "instanceurl")
        metadata.addString(tenant, forKey: "tenantid")
        return metadata
    }

    /// The org id in an identity URL such as `https://login.salesforce.com/id/00D…/005…`.
    static func orgID(fromIdentityURL identity: String?) -> String? {
        guard let identity, let url = URL(string: identity) else { return nil }
        let parts = url.path.split(separator: "/")
        guard let index = parts.firstIndex(of: "id"), index + 1 < parts.count else { return nil }
        return String(parts[index + 1])
    }

    // MARK: PubSubConnection

    /// Opens a `Subscribe` stream. The first `FetchRequest`, with the topic and where to start,
    /// goes out with the stream's first ``PubSubStream/request(_:)``; a refusal arrives from
    /// ``PubSubStream/next()``.
    public func subscribe(topic: String, from replay: ReplayPreset, token: AccessToken) async throws -> any PubSubStream {
        let metadata = try metadata(for: token)
        return GRPCPubSubStream(topic: topic, from: replay) { producer, consumer in
            try await self.service.subscribe(metadata: metadata, requestProducer: producer, onResponse: consumer)
        }
    }

    /// `GetSchema`, bounded by ``Configuration/callTimeout``.
    public func schema(id schemaID: String, token: AccessToken) async throws -> String {
        var options = CallOptions.defaults
        options.timeout = configuration.callTimeout
        do {
            let info = try await service.getSchema(.with { $0.schemaID = schemaID }, metadata: try metadata(for: token), options: options)
            return info.schemaJson
        } catch {
            throw PubSubStatus.error(from: error)
        }
    }

    /// `GetTopic`: the topic's current schema id and whether this session may subscribe.
    public func topic(named name: String, token: AccessToken) async throws -> (schemaID: String, canSubscribe: Bool) {
        var options = CallOptions.defaults
        options.timeout = configuration.callTimeout
        do {
            let info = try await service.getTopic(.with { $0.topicName = name }, metadata: try metadata(for: token), options: options)
            return (info.schemaID, info.canSubscribe)
        } catch {
            throw PubSubStatus.error(from: error)
        }
    }
}
#endif
