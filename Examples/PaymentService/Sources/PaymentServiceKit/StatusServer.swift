import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A minimal HTTP/1.1 server on SwiftNIO for `/metrics` (Prometheus text format), `/health` and
/// `/ready`, as a `Service` that stops on graceful shutdown.
final class StatusServer: Service {
    /// An answer: status, content type and body.
    typealias Reply = (status: Int, contentType: String, body: String)
    typealias Responder = @Sendable (_ path: String) async -> Reply

    private let host: String
    private let port: Int
    private let respond: Responder
    private let logger: Logger
    private let bound: @Sendable (Int) -> Void

    /// `bound` hears the port actually bound (useful with port 0).
    init(host: String = "127.0.0.1", port: Int, logger: Logger, bound: @escaping @Sendable (Int) -> Void = { _ in }, respond: @escaping Responder) {
        self.host = host
        self.port = port
        self.respond = respond
        self.logger = logger
        self.bound = bound
    }

    func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                }
            }
        let port = server.channel.localAddress?.port ?? port
        bound(port)
        logger.info("status server listening", metadata: ["url": "http://\(host):\(port)", "paths": "/metrics /health /ready"])
        let respond = self.respond
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { try? await Self.serve(connection, respond) }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // The graceful shutdown ended the serving: a normal end.
        }
        logger.info("status server stopped")
    }

    private static func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, _ respond: Responder) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var path = "/"
            for try await part in inbound {
                switch part {
                case .head(let head): path = String(head.uri.split(separator: "?").first ?? "/")
                case .body: continue
                case .end:
                    let reply = await respond(path)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: reply.contentType)
                    headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
                    try await outbound.write(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: reply.body))))
                    try await outbound.write(.end(nil))
                }
            }
        }
    }
}
