import Dispatch
import Foundation
import SalesforceResilience
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves any ``HTTPTransport`` — typically a ``SalesforceSimulator`` — over real HTTP/1.1 on
/// 127.0.0.1, with keep-alive, many concurrent connections, and faults injected at the socket
/// by a ``ChaosSchedule``: answers lost after the request was committed (the connection closes
/// without a byte), resets half-way through a body, stalls, slow drips, 503 storms, 429 bursts
/// and HTML 5xx pages.
///
/// A test server that closes every connection after one answer hides what real clients do on
/// reused connections; this one keeps them open as Salesforce's edge does, and can close idle
/// ones (``Options-swift.struct/idleTimeout``) as real servers do.
///
/// ```swift
/// let clock = SystemClock()
/// let server = try LoopbackHTTPServer(chaos: ChaosSchedule(
///     faults: [.lostResponses(probability: 0.05)], seed: 7, clock: clock, origin: clock.now)) { url in
///     SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
/// }
/// defer { server.stop() }
/// // point a client at server.baseURL with allowHTTPLoopback
/// ```
public final class LoopbackHTTPServer: Sendable {
    /// Settings.
    public struct Options: Sendable {
        /// Close a keep-alive connection that has been idle this long; `nil` keeps it open until
        /// the client closes it. Default `nil`.
        public var idleTimeout: Duration?
        /// The largest request head accepted. Default 64 KB.
        public var maxHeaderBytes: Int
        /// The largest request body accepted. Default 200 MB.
        public var maxBodyBytes: Int
        /// The port to listen on; 0 (the default) takes any free one.
        public var port: UInt16
        /// Whether a request's `Connection: close` is answered with `Connection: close` and a
        /// closed connection, as HTTP/1.1 requires. Default `true`; `false` is a server (or a
        /// proxy) that ignores it and keeps the connection open.
        public var honoursConnectionClose: Bool

        /// Creates options.
        public init(idleTimeout: Duration? = nil, maxHeaderBytes: Int = 65_536, maxBodyBytes: Int = 200_000_000, port: UInt16 = 0,
                    honoursConnectionClose: Bool = true) {
            self.idleTimeout = idleTimeout
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
            self.port = port
            self.honoursConnectionClose = honoursConnectionClose
        }
    }

    /// One request as the server received it, and what the schedule did to it.
    public struct Exchange: Sendable, Hashable {
        /// Which accepted connection carried it, counting from 1.
        public var connection: Int
        /// The method.
        public var method: String
        /// The path and query.
        public var path: String
        /// The headers.
        public var headers: HTTPHeaders
        /// The body bytes received.
        public var body: Data
        /// `false` when the connection ended before the declared body arrived: the request was
        /// not passed on.
        public var complete: Bool
        /// The fault that struck it, by ``ChaosFault/name``; `nil` when served normally.
        public var fault: String?
        /// When its head arrived, counted from the server's start.
        public var receivedAt: Duration = .zero
    }

    /// The port it listens on.
    public let port: UInt16
    /// When it started listening.
    private let started = ContinuousClock.now
    /// The transport being served.
    public let transport: any HTTPTransport
    /// The fault schedule, if any.
    public let chaos: ChaosSchedule?
    /// The options in force.
    public let options: Options
    private let listener: Int32
    private let state = Lock(State())

    private struct State {
        var exchanges: [Exchange] = []
        var accepted = 0
        var open: Set<Int32> = []
        var stopped = false
    }

    /// Starts serving `transport`.
    public convenience init(serving transport: any HTTPTransport, chaos: ChaosSchedule? = nil, options: Options = Options()) throws {
        try self.init(chaos: chaos, options: options) { _ in transport }
    }

    /// Starts listening on 127.0.0.1 (on ``Options-swift.struct/port``, an ephemeral port by default) and serves the transport `make` builds
    /// from the server's base URL (so a simulator can report it as its `instance_url`).
    public init(chaos: ChaosSchedule? = nil, options: Options = Options(), serving make: (URL) -> any HTTPTransport) throws {
        (listener, port) = try Loopback.listen(port: options.port, reuseAddress: true)
        self.chaos = chaos
        self.options = options
        transport = make(URL(string: "http://127.0.0.1:\(port)")!)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Every request received so far, in order of arrival.
    public var exchanges: [Exchange] { state.withLock { $0.exchanges } }

    /// Connections accepted so far.
    public var connectionsAccepted: Int { state.withLock { $0.accepted } }

    /// Connections open now.
    public var openConnections: Int { state.withLock { $0.open.count } }

    /// Stops accepting and shuts every open connection down. The listening socket is closed by
    /// the accept thread, so its number cannot be reused while that thread might still use it.
    public func stop() {
        state.withLock { state in
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for fd in state.open { shutdown(fd, Int32(SHUT_RDWR)) }
        }
    }

    // MARK: Connections

    private func acceptLoop() {
        while let fd = Loopback.accept(listener) {
            let number: Int? = state.withLock { state in
                guard !state.stopped else { return nil }
                state.accepted += 1
                state.open.insert(fd)
                return state.accepted
            }
            guard let number else {
                close(fd)
                continue
            }
            let thread = Thread { [self] in serve(WireSocket(descriptor: fd), connection: number) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private enum Ending { case fin, reset }

    private func serve(_ socket: WireSocket, connection: Int) {
        var ending = Ending.fin
        defer { finish(socket, ending) }
        while true {
            if let idle = options.idleTimeout, socket.buffered == 0, !waitReadable(socket, for: idle) { return }
            guard let request = WireMessage.readRequest(from: socket, maxHeaderBytes: options.maxHeaderBytes, maxBodyBytes: options.maxBodyBytes) else {
                return
            }
            var exchange = Exchange(connection: connection, method: request.method, path: request.target, headers: request.headers,
                                    body: Data(request.body), complete: request.complete, fault: nil, receivedAt: ContinuousClock.now - started)
            guard request.complete else {
                record(exchange)
                return
            }
            let forwarded = HTTPRequest(method: HTTPMethod(rawValue: request.method), url: URL(string: baseURL.absoluteString + request.target) ?? baseURL,
                                        headers: request.headers, body: request.body.isEmpty ? nil : Data(request.body))
            let plan = chaos?.plan(for: forwarded) ?? ChaosSchedule.Plan(latency: .zero, outcome: nil)
            exchange.fault = plan.outcome.map { ChaosFault($0).name }
            record(exchange)
            let action = Self.run(plan, forwarded, through: transport, clock: chaos?.clock)
            let close = request.wantsClose && options.honoursConnectionClose
            switch action {
            case .respond(let response):
                guard socket.write(WireMessage.head(for: response, bodyLength: response.body.count, close: close) + response.body), !close else { return }
            case .drop:
                return
            case .reset(let response):
                let half = Array(response.body.prefix(max(1, response.body.count / 2)))
                socket.write(WireMessage.head(for: response, bodyLength: max(1, response.body.count), close: false) + half)
                ending = .reset
                return
            case .stall(let duration):
                // Say nothing; end when the client gives up, the server stops, or the stall ends.
                _ = waitReadable(socket, for: duration)
                return
            case .drip(let response, let bytes, let interval):
                let all = WireMessage.head(for: response, bodyLength: response.body.count, close: close) + response.body
                var offset = 0
                while offset < all.count {
                    let end = min(all.count, offset + bytes)
                    guard socket.write(Array(all[offset..<end])) else { return }
                    offset = end
                    if offset < all.count, waitReadable(socket, for: interval) { return }  // the client went away
                }
                if close { return }
            }
        }
    }

    /// What the connection thread does with the socket after the transport has run.
    private enum Action {
        case respond(HTTPResponse)
        case drop
        case reset(HTTPResponse)
        case stall(Duration)
        case drip(HTTPResponse, Int, Duration)
    }

    /// Applies the plan's latency, passes the request on unless the plan answers it, and says
    /// what to put on the wire. Blocks this connection's thread (not a Swift concurrency thread).
    private static func run(_ plan: ChaosSchedule.Plan, _ request: HTTPRequest, through transport: any HTTPTransport,
                            clock: (any ResilienceClock)?) -> Action {
        let result = Lock<Action?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let action: Action
            do {
                if plan.latency > .zero, let clock { try await clock.sleep(for: plan.latency) }
                action = try await decide(plan, request, transport)
            } catch {
                action = .respond(.html(502, title: "502 Bad Gateway"))
            }
            result.withLock { $0 = action }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 } ?? .drop
    }

    private static func decide(_ plan: ChaosSchedule.Plan, _ request: HTTPRequest, _ transport: any HTTPTransport) async throws -> Action {
        switch plan.outcome {
        case .respond(let status, let retryAfter, let html)?:
            return .respond(ChaosSchedule.response(status: status, retryAfter: retryAfter, html: html))
        case .answer(let response)?:
            return .respond(response)
        case .connectionFailure?:
            return .reset(HTTPResponse(status: 503))
        case .lostResponse?:
            _ = try await transport.send(request)
            return .drop
        case .resetMidResponse?:
            return .reset(try await transport.send(request))
        case .stall(let duration)?:
            _ = try await transport.send(request)
            return .stall(duration)
        case .slowDrip(let bytes, let interval)?:
            return .drip(try await transport.send(request), bytes, interval)
        case nil, .latency?, .serverError?:
            return .respond(try await transport.send(request))
        }
    }

    // MARK: Helpers

    private func record(_ exchange: Exchange) {
        state.withLock { $0.exchanges.append(exchange) }
    }

    /// Waits until the socket has bytes (or the peer closed) or `duration` passes.
    /// Returns `true` if it became readable.
    private func waitReadable(_ socket: WireSocket, for duration: Duration) -> Bool {
        var poller = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(clamping: duration.components.seconds * 1_000 + duration.components.attoseconds / 1_000_000_000_000_000)
        while true {
            let ready = poll(&poller, 1, max(0, milliseconds))
            if ready < 0, errno == EINTR { continue }
            return ready > 0
        }
    }

    private func finish(_ socket: WireSocket, _ ending: Ending) {
        state.withLock { state in
            state.open.remove(socket.descriptor)
            switch ending {
            case .fin: socket.shutdownAndClose()
            case .reset: socket.reset()
            }
        }
    }
}
