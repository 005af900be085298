import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The ``HTTPTransport`` built on `URLSession`: the one that needs no dependency.
///
/// - Each call is one attempt, bounded by ``Options-swift.struct/attemptTimeout``.
/// - By default every attempt uses a **new connection** (``ConnectionPolicy-swift.enum/freshPerAttempt``).
///   On a reused keep-alive connection, URLSession's HTTP stack (libcurl on Linux) silently
///   re-sends a request whose answer was lost: a GET goes out twice, and a PATCH or PUT goes out
///   again *without its body* and then hangs until the timeout while a core spins. On a fresh
///   connection a lost answer surfaces at once as an ambiguous ``TransportError``, and only
///   ``RetryMiddleware`` decides whether to send again. Docs/Transports.md has the measurements.
/// - Sessions are kept: an attempt borrows a session with no open connection and gives it back
///   when the server answered `Connection: close`; only after a failure, or a server that keeps
///   the connection open, is a session torn down (tearing sessions down races inside
///   FoundationNetworking on Linux: a known crash family).
/// - Redirects are not followed: a Salesforce API never needs one, and following one could send
///   the `Authorization` header to another host. The 3xx response is returned instead.
/// - `URLError`s become ``TransportError``s that say whether the request may have been sent;
///   cancellation of the calling task becomes `CancellationError`.
///
/// On Linux, FoundationNetworking keeps a core busy while it waits for an answer on a new
/// connection (about 0.8 CPU-seconds per second of waiting, measured). Servers that make many
/// long calls should use the AsyncHTTPClient transport of `Examples/PaymentService`.
public struct URLSessionTransport: HTTPTransport {
    /// Whether attempts share connections.
    public enum ConnectionPolicy: String, Sendable, Hashable {
        /// A new connection for every attempt, closed when it ends: each attempt runs on a
        /// session that holds no open connection, and asks the server to close after its answer
        /// (`Connection: close`). Costs a TCP (and TLS) handshake per attempt, and guarantees
        /// that the HTTP stack never re-sends a request on its own.
        case freshPerAttempt
        /// One session whose keep-alive connections are reused. Faster; but on Linux a lost
        /// answer on a reused connection makes the stack re-send the request by itself (see above).
        case reuse
    }

    /// Settings for the transport.
    public struct Options: Sendable {
        /// Upper bound for one attempt, from connecting to the last byte of the response. A
        /// connection that cannot be made in this time counts as ambiguous: URLSession gives no
        /// separate connect event to tell "never connected" apart. Default 60 s: long enough for a
        /// large query page, short enough that a hung connection is abandoned while the caller's
        /// deadline still allows a retry.
        public var attemptTimeout: Duration
        /// Whether attempts share connections. Default ``ConnectionPolicy-swift.enum/freshPerAttempt``.
        public var connections: ConnectionPolicy
        /// The largest answer accepted; a larger one is abandoned as it arrives and reported as an
        /// ambiguous `badResponse`. Default 128 MB: above any REST answer and a Bulk result page.
        public var maxResponseBytes: Int

        /// Creates options.
        public init(attemptTimeout: Duration = .seconds(60), connections: ConnectionPolicy = .freshPerAttempt,
                    maxResponseBytes: Int = 128 * 1_024 * 1_024) {
            self.attemptTimeout = attemptTimeout
            self.connections = connections
            self.maxResponseBytes = max(0, maxResponseBytes)
        }

        /// The defaults.
        public static let `default` = Options()
    }

    private let session: URLSession?
    /// The options in force.
    public let options: Options

    /// The sessions of every transport that opens a new connection per attempt.
    static let freshSessions = FreshConnectionSessions(make: makeSession)

    /// Creates a transport over ephemeral sessions (no cookies, no cache) that refuse redirects.
    /// With ``ConnectionPolicy-swift.enum/reuse`` the transport gets a session of its own, whose
    /// connections only its requests reuse.
    public init(options: Options = .default) {
        self.options = options
        self.session = options.connections == .reuse ? Self.makeSession() : nil
    }

    /// Creates a transport over a session you configured (proxies, TLS pinning). Its connection
    /// reuse is the session's own: see ``ConnectionPolicy-swift.enum/reuse`` for what that risks.
    ///
    /// Give the session a delegate that refuses redirects if the `Authorization` header must
    /// never follow one.
    public init(session: URLSession, options: Options = .default) {
        self.session = session
        self.options = Options(attemptTimeout: options.attemptTimeout, connections: .reuse, maxResponseBytes: options.maxResponseBytes)
    }

    /// `true`: every attempt ends within ``HTTPRequest/timeout`` or ``Options-swift.struct/attemptTimeout``,
    /// whichever is shorter.
    public var honoursRequestTimeout: Bool { true }

    /// Sends `request` once; see ``HTTPTransport/send(_:)``.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method.rawValue
        urlRequest.httpBody = request.body
        // Our own race below enforces the attempt timeout (or the request's, when shorter)
        // precisely. URLSession's idle timeout is only a backstop, in whole seconds: on Linux a
        // sub-second value fires at once.
        let timeout = min(request.timeout ?? options.attemptTimeout, options.attemptTimeout).atLeast(OptionLimits.timeout)
        urlRequest.timeoutInterval = (timeout.seconds + 1).rounded(.up)
        for field in request.headers where field.name.lowercased() != "connection" {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        if options.connections == .freshPerAttempt {
            urlRequest.setValue("close", forHTTPHeaderField: "Connection")
        }
        if let session { return try await send(urlRequest, on: session, timeout: timeout) }
        let session = Self.freshSessions.borrow()
        do {
            let response = try await send(urlRequest, on: session, timeout: timeout)
            Self.freshSessions.giveBack(session, connectionClosed: FreshConnectionSessions.saysClose(response.headers))
            return response
        } catch {
            Self.freshSessions.giveBack(session, connectionClosed: false)
            throw error
        }
    }

    private func send(_ urlRequest: URLRequest, on session: URLSession, timeout: Duration) async throws -> HTTPResponse {
        let limiter = ResponseLimiter(limit: options.maxResponseBytes)
        return try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            group.addTask {
                do {
                    let (data, response) = try await session.data(for: urlRequest, delegate: limiter)
                    // The last piece may have completed the transfer before the cancel took hold.
                    guard !limiter.exceeded, data.count <= limiter.limit else { throw limiter.error }
                    guard let http = response as? HTTPURLResponse else {
                        throw TransportError.ambiguous(.badResponse, "the response was not HTTP")
                    }
                    return HTTPResponse(status: http.statusCode, headers: Self.headers(of: http), body: data)
                } catch let error as URLError {
                    if limiter.exceeded { throw limiter.error }
                    throw Self.map(error)
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

    private static func makeSession() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: configuration, delegate: RedirectRefuser(), delegateQueue: nil)
    }

    private static func headers(of response: HTTPURLResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.allHeaderFields {
            headers.add(name: String(describing: name), value: String(describing: value))
        }
        return headers
    }

    /// Maps a `URLError` to the delivery it implies, with a message that says what happened.
    static func map(_ error: URLError) -> any Error {
        let code = error.code
        func make(_ delivery: TransportError.Delivery, _ kind: TransportError.Kind, _ text: String) -> TransportError {
            TransportError(delivery: delivery, kind: kind, message: "\(text) (URLError \(code.rawValue))", underlyingCode: code.rawValue)
        }
        switch code {
        case .cancelled:
            return CancellationError()
        case .cannotConnectToHost:
            return make(.notSent, .connectionRefused, "the host refused the connection")
        case .cannotFindHost, .dnsLookupFailed:
            return make(.notSent, .dnsFailure, "the host name did not resolve")
        case .notConnectedToInternet, .internationalRoamingOff, .callIsActive, .dataNotAllowed:
            return make(.notSent, .notConnected, "there is no network connection")
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
             .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
             .clientCertificateRejected, .clientCertificateRequired, .appTransportSecurityRequiresSecureConnection:
            return make(.notSent, .tlsFailure, "the TLS handshake failed")
        case .badURL, .unsupportedURL:
            return make(.notSent, .badURL, "the URL cannot be used")
        case .timedOut:
            return make(.ambiguous, .timedOut, "no answer in time")
        case .networkConnectionLost:
            return make(.ambiguous, .connectionLost, "the connection broke while the request or its answer was in flight")
        case .badServerResponse:
            return make(.ambiguous, .badResponse, "the server closed the connection without a complete answer")
        case .cannotParseResponse, .cannotDecodeRawData, .cannotDecodeContentData:
            return make(.ambiguous, .badResponse, "the answer was not valid HTTP")
        default:
            return make(.ambiguous, .other, "the request failed")
        }
    }
}

/// Counts an answer's bytes as they arrive and abandons it past the limit, so a huge or endless
/// body never sits whole in memory; refuses redirects for its task, as the session does.
private final class ResponseLimiter: NSObject, URLSessionDataDelegate, Sendable {
    let limit: Int
    private let received = Lock<(bytes: Int, exceeded: Bool)>((0, false))

    init(limit: Int) { self.limit = limit }

    var exceeded: Bool { received.withLock { $0.exceeded } }

    var error: TransportError {
        TransportError.ambiguous(.badResponse, "the answer is larger than the limit of \(limit) bytes; abandoned")
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        let over = received.withLock { state in
            state.bytes += data.count
            if state.bytes > limit { state.exceeded = true }
            return state.exceeded
        }
        if over { dataTask.cancel() }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

/// Refuses every redirect so that credentials never follow one to another host.
private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
