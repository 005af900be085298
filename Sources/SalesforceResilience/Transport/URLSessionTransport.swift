import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The production ``HTTPTransport``, built on `URLSession`.
///
/// - Each call is one attempt bounded by ``Options-swift.struct/attemptTimeout``.
/// - Redirects are not followed: a Salesforce API never needs one, and following one could send
///   the `Authorization` header to another host. The 3xx response is returned instead.
/// - `URLError`s become ``TransportError``s that say whether the request may have been sent;
///   cancellation of the calling task becomes `CancellationError`.
public struct URLSessionTransport: HTTPTransport {
    /// Settings for the transport.
    public struct Options: Sendable {
        /// Upper bound for one attempt, from sending to the last byte of the response.
        /// Default 60 s: long enough for a large query page, short enough that a hung
        /// connection is abandoned while the caller's deadline still allows a retry.
        public var attemptTimeout: Duration

        /// Creates options.
        public init(attemptTimeout: Duration = .seconds(60)) {
            self.attemptTimeout = attemptTimeout
        }

        /// The defaults.
        public static let `default` = Options()
    }

    private let session: URLSession
    private let options: Options

    /// Creates a transport with its own ephemeral session that refuses redirects.
    public init(options: Options = .default) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        self.session = URLSession(configuration: configuration, delegate: RedirectRefuser(), delegateQueue: nil)
        self.options = options
    }

    /// Creates a transport over a session you configured (proxies, TLS pinning).
    ///
    /// Give the session a delegate that refuses redirects if the `Authorization` header must
    /// never follow one.
    public init(session: URLSession, options: Options = .default) {
        self.session = session
        self.options = options
    }

    /// Sends `request` once; see ``HTTPTransport/send(_:)``.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method.rawValue
        urlRequest.httpBody = request.body
        // Our own race below enforces the attempt timeout precisely. URLSession's idle timeout is
        // only a backstop, in whole seconds: on Linux a sub-second value fires at once.
        urlRequest.timeoutInterval = (options.attemptTimeout.seconds + 1).rounded(.up)
        for field in request.headers {
            urlRequest.addValue(field.value, forHTTPHeaderField: field.name)
        }
        let session = self.session
        let timeout = options.attemptTimeout
        let urlRequestCopy = urlRequest
        return try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            group.addTask {
                do {
                    let (data, response) = try await session.data(for: urlRequestCopy)
                    guard let http = response as? HTTPURLResponse else {
                        throw TransportError.ambiguous(.badResponse, "response was not HTTP")
                    }
                    return HTTPResponse(status: http.statusCode, headers: Self.headers(of: http), body: data)
                } catch let error as URLError {
                    throw Self.map(error)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TransportError.ambiguous(.timedOut, "no response within \(timeout)")
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else {
                throw TransportError.ambiguous(.other, "transport produced no result")
            }
            return first
        }
    }

    private static func headers(of response: HTTPURLResponse) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for (name, value) in response.allHeaderFields {
            headers.add(name: String(describing: name), value: String(describing: value))
        }
        return headers
    }

    /// Maps a `URLError` to the delivery it implies.
    static func map(_ error: URLError) -> any Error {
        let code = error.code
        let detail = "URLError \(code.rawValue)"
        func make(_ delivery: TransportError.Delivery, _ kind: TransportError.Kind) -> TransportError {
            TransportError(delivery: delivery, kind: kind, message: detail, underlyingCode: code.rawValue)
        }
        switch code {
        case .cancelled:
            return CancellationError()
        case .cannotConnectToHost:
            return make(.notSent, .connectionRefused)
        case .cannotFindHost, .dnsLookupFailed:
            return make(.notSent, .dnsFailure)
        case .notConnectedToInternet, .internationalRoamingOff, .callIsActive, .dataNotAllowed:
            return make(.notSent, .notConnected)
        case .secureConnectionFailed, .serverCertificateHasBadDate, .serverCertificateUntrusted,
             .serverCertificateHasUnknownRoot, .serverCertificateNotYetValid,
             .clientCertificateRejected, .clientCertificateRequired, .appTransportSecurityRequiresSecureConnection:
            return make(.notSent, .tlsFailure)
        case .badURL, .unsupportedURL:
            return make(.notSent, .badURL)
        case .timedOut:
            return make(.ambiguous, .timedOut)
        case .networkConnectionLost:
            return make(.ambiguous, .connectionLost)
        case .badServerResponse, .cannotParseResponse, .cannotDecodeRawData, .cannotDecodeContentData:
            return make(.ambiguous, .badResponse)
        default:
            return make(.ambiguous, .other)
        }
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
