#if PubSubGRPC // the package trait that brings this module
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPC
import SalesforceResilienceTesting

/// A gRPC server on 127.0.0.1 speaking `eventbus.v1.PubSub` (`Subscribe`, `GetSchema`,
/// `GetTopic`) over any ``PubSubConnection``, usually an `InMemoryPubSub`: its topics, replay ids,
/// keepalives, idle closes and faults reach the client as the service sends them, as gRPC
/// statuses with the service's `error-code` trailer.
///
/// Every call must carry `accesstoken`, `instanceurl` and `tenantid` (and the tenant id given
/// here, if one is), or it is refused `UNAUTHENTICATED`.
///
/// Point a `GRPCPubSubConnection` at it with `host: "127.0.0.1", port: server.port,
/// usesTLS: false`, or at a `LoopbackTCPRelay` in front of it for faults at the socket.
public final class PubSubGRPCServer: Sendable {
    /// The event loop every simulator serves on (one thread).
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// The port it listens on.
    public let port: Int
    /// The bus it serves.
    public let bus: any PubSubConnection
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, Never>
    private let service: Service

    /// Starts serving `bus` on an ephemeral port; `tenantID`, if given, is the only one accepted.
    public init(serving bus: any PubSubConnection, tenantID: String? = nil) async throws {
        // Its own event loop, apart from the clients' (the singleton group), so that what the
        // server does shows on threads of its own.
        let transport = HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext,
                                                   eventLoopGroup: Self.group)
        let service = Service(bus: bus, tenantID: tenantID)
        let server = GRPCServer(transport: transport, services: [service])
        self.bus = bus
        self.service = service
        self.server = server
        serving = Task { try? await server.serve() }
        guard let port = try await transport.listeningAddress.ipv4?.port else {
            server.beginGracefulShutdown()
            throw PubSubError(.unavailable, "the simulator did not get a port")
        }
        self.port = port
    }

    /// Stops: open streams end, new calls are refused.
    public func stop() async {
        server.beginGracefulShutdown()
        serving.cancel()
        await serving.value
    }

    /// The `Subscribe` calls accepted so far.
    public var subscribeCalls: Int { service.counts.withLock { $0.subscribes } }
    /// The `GetSchema` calls answered so far.
    public var schemaCalls: Int { service.counts.withLock { $0.schemas } }
    /// The `num_requested` of every `FetchRequest` received, in order.
    public var requestedCounts: [Int] { service.counts.withLock { $0.requested } }
    /// The `tenantid` and `instanceurl` of the calls received (never the token).
    public var sessions: [(tenantID: String, instanceURL: String)] { service.counts.withLock { $0.sessions } }

    struct Counts {
        var subscribes = 0
        var schemas = 0
        var requested: [Int] = []
        var sessions: [(tenantID: String, instanceURL: String)] = []
        var rpcIDs = 0
    }

    final class Service: Eventbus_V1_PubSub.ServiceProtocol, Sendable {
        let bus: any PubSubConnection
        let tenantID: String?
        let counts = Lock(Counts())

        init(bus: any PubSubConnection, tenantID: String?) {
            self.bus = bus
            self.tenantID = tenantID
        }

        /// The session a call carries, or `UNAUTHENTICATED`.
        func token(_ metadata: Metadata) throws -> AccessToken {
            let value = metadata[stringValues: "accesstoken"].first { _ in true }
            let instance = metadata[stringValues: "instanceurl"].first { _ in true }
            let tenant = metadata[stringValues: "tenantid"].first { _ in true }
            guard let value, let instance, let url = URL(string: instance), let tenant, tenantID.map({ $0 == tenant }) ?? true else {
                throw rpcError(PubSubError(.authentication, "accesstoken, instanceurl and tenantid are required"))
            }
            counts.withLock { $0.sessions.append((tenant, instance)) }
            return AccessToken(value: value, instanceURL: url)
        }

        /// `error` as the service sends it: a status and the `error-code` and `rpc-id` trailers.
        func rpcError(_ error: any Error) -> RPCError {
            let rpcID = counts.withLock { counts in
                counts.rpcIDs += 1
                return "sim-\(counts.rpcIDs)"
            }
            guard let error = error as? PubSubError else {
                return RPCError(code: .internalError, message: "\(error)", metadata: [PubSubStatus.rpcIDKey: "\(rpcID)"])
            }
            let (code, errorCode): (RPCError.Code, String) = switch error.kind {
            case .authentication: (.unauthenticated, PubSubStatus.authError)
            case .replayIDInvalid: (.invalidArgument, PubSubStatus.replayIDCorrupted)
            case .unavailable: (.unavailable, "sfdc.platform.eventbus.grpc.service.unavailable")
            case .permanent: (.notFound, "sfdc.platform.eventbus.grpc.service.notfound")
            }
            return RPCError(code: code, message: "\(error.message) rpcId: \(rpcID)",
                            metadata: [PubSubStatus.errorCodeKey: "\(errorCode)", PubSubStatus.rpcIDKey: "\(rpcID)"])
        }

        func subscribe(request: StreamingServerRequest<Eventbus_V1_FetchRequest>, context: ServerContext) async throws
            -> StreamingServerResponse<Eventbus_V1_FetchResponse> {
            let token = try token(request.metadata)
            return StreamingServerResponse { writer in
                let (opened, announce) = AsyncStream<any PubSubStream>.makeStream()
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    // Reads the requests: the first opens the subscription on the bus, every one
                    // adds to what may be delivered.
                    group.addTask {
                        defer { announce.finish() }
                        var stream: (any PubSubStream)?
                        for try await fetch in request.messages {
                            let count = Int(fetch.numRequested)
                            self.counts.withLock { $0.requested.append(count) }
                            if stream == nil {
                                let preset: ReplayPreset = switch fetch.replayPreset {
                                case .earliest: .earliest
                                case .custom: .custom(fetch.replayID)
                                default: .latest
                                }
                                do {
                                    stream = try await self.bus.subscribe(topic: fetch.topicName, from: preset, token: token)
                                } catch {
                                    throw self.rpcError(error)
                                }
                                self.counts.withLock { $0.subscribes += 1 }
                                announce.yield(stream!)
                                announce.finish()
                            }
                            try await stream?.request(count)
                        }
                    }
                    var subscription: (any PubSubStream)?
                    for await stream in opened { subscription = stream }
                    guard let subscription else {
                        // The client closed before asking, or the bus refused: its error, if any.
                        try await group.next()
                        return [:]
                    }
                    defer { subscription.cancel() }
                    do {
                        while let response = try await subscription.next() {
                            try await writer.write(.with { message in
                                message.events = response.events.map { event in
                                    .with {
                                        $0.replayID = event.replayID
                                        $0.event = .with {
                                            $0.id = event.id
                                            $0.schemaID = event.schemaID
                                            $0.payload = Data(event.payload)
                                        }
                                    }
                                }
                                message.latestReplayID = response.latestReplayID
                                message.pendingNumRequested = Int32(clamping: response.pendingNumRequested)
                            })
                        }
                    } catch {
                        group.cancelAll()
                        throw self.rpcError(error)
                    }
                    group.cancelAll()
                    return [:]
                }
            }
        }

        func getSchema(request: ServerRequest<Eventbus_V1_SchemaRequest>, context: ServerContext) async throws
            -> ServerResponse<Eventbus_V1_SchemaInfo> {
            let token = try token(request.metadata)
            do {
                let json = try await bus.schema(id: request.message.schemaID, token: token)
                counts.withLock { $0.schemas += 1 }
                return ServerResponse(message: .with {
                    $0.schemaJson = json
                    $0.schemaID = request.message.schemaID
                })
            } catch {
                throw rpcError(error)
            }
        }

        func getTopic(request: ServerRequest<Eventbus_V1_TopicRequest>, context: ServerContext) async throws
            -> ServerResponse<Eventbus_V1_TopicInfo> {
            _ = try token(request.metadata)
            return ServerResponse(message: .with {
                $0.topicName = request.message.topicName
                $0.canSubscribe = true
                $0.canPublish = false
            })
        }
    }
}
#endif
