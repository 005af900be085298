#if AsyncHTTPClient // the package trait that brings this module's dependencies
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SalesforceResilience

/// An ``HTTPTransport`` over AsyncHTTPClient: SwiftNIO's event-driven HTTP client, the choice on
/// Linux servers (no busy wait while an answer is awaited, a shared pool of keep-alive
/// connections, a real connect timeout).
///
/// It keeps the same contract as `URLSessionTransport` (`TransportConformance` checks both):
/// one attempt per call, bounded by ``Options-swift.struct/attemptTimeout``; a failure to
/// connect is `notSent`, a connection lost after the request went out is `ambiguous`, and
/// AsyncHTTPClient never re-sends a request on its own; redirects come back as 3xx responses;
/// answers larger than ``Options-swift.struct/maxResponseBytes`` are refused; cancellation is
/// `CancellationError`.
///
/// ```swift
/// let transport = AsyncHTTPClientTransport()          // owns a client and its connection pool
/// let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider)
/// // … at shutdown:
/// try await transport.shutdown()
/// ```
public final class AsyncHTTPClientTransport: HTTPTransport {
    /// Settings for the transport and the client it creates.
    public struct Options: Sendable {
        /// How long establishing a connection (TCP and TLS) may take; a connection not made in
        /// time is `notSent`, safe to retry. Default 10 s.
        public var connectTimeout: Duration
        /// Upper bound for one attempt, from asking for a connection to the last byte of the
        /// answer; past it the attempt is `ambiguous` `timedOut`. Default 60 s.
        public var attemptTimeout: Duration
        /// The longest silence between bytes of an answer before the connection is given up
        /// (`ambiguous` `timedOut`); `nil` leaves it to the attempt timeout. Default `nil`.
        public var readTimeout: Duration?
        /// The largest answer accepted; a larger one is refused as `ambiguous` `badResponse`
        /// without being buffered. Default 128 MB.
        public var maxResponseBytes: Int
        /// Keep-alive connections per host in the pool. Default 8.
        public var maxConnectionsPerHost: Int
        /// How long an idle pooled connection is kept. Default 50 s, under the 60 s after which
        /// common load balancers close idle connections.
        public var idleConnectionTimeout: Duration

        /// Creates options.
        public init(connectTimeout: Duration = .seconds(10), attemptTimeout: Duration = .seconds(60), readTimeout: Duration? = nil,
                    maxResponseBytes: Int = 128 * 1_024 * 1_024, maxConnectionsPerHost: Int = 8, idleConnectionTimeout: Duration = .seconds(50)) {
            self.connectTimeout = connectTimeout
            self.attemptTimeout = attemptTimeout
            self.readTimeout = readTimeout
            self.maxResponseBytes = max(0, maxResponseBytes)
            self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
            self.idleConnectionTimeout = idleConnectionTimeout
        }
    }

    /// The client requests go through.
    public let client: HTTPClient
    /// The options in force.
    public let options: Options
    private let ownsClient: Bool

    /// Creates a transport with a client of its own, configured by ``clientConfiguration(_:)``.
    /// Call ``shutdown()`` when done with it.
    public init(options: Options = Options()) {
        self.options = options
        self.client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: Self.clientConfiguration(options))
        self.ownsClient = true
    }

    /// Creates a transport over a client you own and shut down. Configure it with
    /// ``clientConfiguration(_:)`` (or at least disallow redirects, and turn off
    /// `retryConnectionEstablishment` so a refused connection fails at once as `notSent`).
    public init(client: HTTPClient, options: Options = Options()) {
        self.options = options
        self.client = client
        self.ownsClient = false
    }

    /// The AsyncHTTPClient configuration this transport's contract needs: redirects disallowed
    /// (the `Authorization` header must not follow one), the connect and read timeouts, a keep-alive pool,
    /// no automatic decompression of what Salesforce did not compress, and connection
    /// establishment not retried inside the client (``RetryMiddleware`` decides retries).
    public static func clientConfiguration(_ options: Options = Options()) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(options.connectTimeout.nanoseconds), read: options.readTimeout.map { .nanoseconds($0.nanoseconds) }),
            connectionPool: .init(idleTimeout: .nanoseconds(options.idleConnectionTimeout.nanoseconds),
                                  concurrentHTTP1ConnectionsPerHostSoftLimit: options.maxConnectionsPerHost))
        configuration.connectionPool.retryConnectionEstablishment = false
        return configuration
    }

    /// ``shutdown()`` for code that cannot wait asynchronously (an initializer that failed after
    /// creating the transport): blocks until the client is shut down, if this transport created it.
    @available(*, noasync, message: "use shutdown() from async code")
    public func syncShutdown() throws {
        if ownsClient { try client.syncShutdown() }
    }

    /// Shuts the client down if this transport created it; a client passed in is left alone.
    public func shutdown() async throws {
        if ownsClient { try await client.shutdown() }
    }

    /// `true`: every attempt ends within ``HTTPRequest/timeout`` or the attempt timeout, whichever
    /// is shorter.
    public var honoursRequestTimeout: Bool { true }

    /// Sends `request` once; see ``HTTPTransport/send(_:)``.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let converted = Self.convert(request)
        let client = self.client
        let limit = options.maxResponseBytes
        let timeout = min(request.timeout ?? options.attemptTimeout, options.attemptTimeout)
        // The client's own deadline is a backstop; the race below is the attempt timeout (or the
        // request's, when shorter), so that reading the body is bounded too.
        let backstop = NIODeadline.now() + .nanoseconds((timeout + .seconds(1)).nanoseconds)
        return try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            group.addTask {
                do {
                    let response = try await client.execute(converted, deadline: backstop)
                    let body = try await response.body.collect(upTo: limit)
                    return Self.convert(response, body: body)
                } catch {
                    throw Self.map(error, limit: limit)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TransportError.ambiguous(.timedOut, "no complete answer within the attempt timeout of \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else {
                throw TransportError.ambiguous(.other, "the transport produced no result")
            }
            return first
        }
    }

    /// Our request as AsyncHTTPClient's.
    static func convert(_ request: HTTPRequest) -> HTTPClientRequest {
        var converted = HTTPClientRequest(url: request.url.absoluteString)
        converted.method = NIOHTTP1.HTTPMethod(rawValue: request.method.rawValue)
        for field in request.headers { converted.headers.add(name: field.name, value: field.value) }
        if let body = request.body { converted.body = .bytes(ByteBuffer(bytes: body)) }
        return converted
    }

    /// AsyncHTTPClient's response and its collected body as ours.
    static func convert(_ response: HTTPClientResponse, body: ByteBuffer) -> HTTPResponse {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        return HTTPResponse(status: Int(response.status.code), headers: headers, body: Data(body.readableBytesView))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : scaled &+ attoseconds / 1_000_000_000
    }
}
#endif
