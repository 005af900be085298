import CurlLoader
import Foundation

/// The ``HTTPTransport`` on libcurl's own interface, loaded at run time: the Linux transport that
/// does not spin, with no package dependency.
///
/// On Linux, `URLSession` keeps a core busy while a request waits (about 0.8 CPU-seconds per
/// second, measured; FoundationNetworking's event loop around libcurl). This transport drives the
/// same libcurl directly: each attempt runs on a thread of its own that sleeps in `poll` until
/// the socket, the timeout or a cancellation wakes it.
///
/// - Each call is one attempt on a **new connection**, closed when it ends: libcurl never
///   re-sends a request, so a lost answer surfaces as an ambiguous ``TransportError`` and only
///   ``RetryMiddleware`` decides whether to send again.
/// - A connection that cannot be made (refused, DNS, TLS, connect timeout) is `notSent`; a failure
///   after the request went out is `ambiguous`.
/// - TLS certificates and host names are verified (the system's CA bundle, or
///   ``Options-swift.struct/caBundlePath``). Redirects are not followed.
/// - Proxies come from the usual environment variables (`https_proxy`, `no_proxy`), as with curl.
/// - Bodies are decompressed (`gzip`, `deflate` and whatever else the system's libcurl supports).
///
/// libcurl is found at run time (`libcurl.so.4`, the library FoundationNetworking itself loads);
/// where it is missing, ``init(options:)`` throws and ``StandardTransport`` falls back to
/// ``URLSessionTransport``.
public struct CurlTransport: HTTPTransport {
    /// Settings for the transport.
    public struct Options: Sendable {
        /// Upper bound for one attempt, from connecting to the last byte. Default 60 s.
        public var attemptTimeout: Duration
        /// Upper bound for opening the connection (TCP and TLS); a connection not made in this
        /// time is a `notSent` timeout. Default 10 s.
        public var connectTimeout: Duration
        /// The largest answer accepted; a larger one is abandoned as it arrives and reported as an
        /// ambiguous `badResponse`. Default 128 MB.
        public var maxResponseBytes: Int
        /// A PEM file of trusted certificate authorities instead of the system's, or `nil`.
        public var caBundlePath: String?

        /// Creates options.
        public init(attemptTimeout: Duration = .seconds(60), connectTimeout: Duration = .seconds(10),
                    maxResponseBytes: Int = 128 * 1_024 * 1_024, caBundlePath: String? = nil) {
            self.attemptTimeout = attemptTimeout
            self.connectTimeout = connectTimeout
            self.maxResponseBytes = max(0, maxResponseBytes)
            self.caBundlePath = caBundlePath
        }

        /// The defaults.
        public static let `default` = Options()
    }

    /// libcurl could not be loaded: the message says why.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        /// Why.
        public let description: String
    }

    /// The options in force.
    public let options: Options

    /// Loads libcurl (once per process) and creates the transport.
    ///
    /// - Throws: ``Unavailable`` when libcurl cannot be loaded.
    public init(options: Options = .default) throws {
        if let reason = Self.loadFailure { throw Unavailable(description: reason) }
        self.options = options
    }

    /// Whether libcurl can be loaded in this process.
    public static var isAvailable: Bool { loadFailure == nil }

    /// The loaded libcurl's version line (`libcurl/7.88.1 OpenSSL/3.0 …`), or `nil`.
    public static var libraryVersion: String? {
        guard isAvailable, let text = sr_curl_version() else { return nil }
        return String(cString: text)
    }

    private static let loadFailure: String? = {
        var message = [CChar](repeating: 0, count: 256)
        guard sr_curl_load(&message, message.count) != 0 else { return nil }
        return String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// `true`: every attempt ends within ``HTTPRequest/timeout`` or ``Options-swift.struct/attemptTimeout``,
    /// whichever is shorter, and a cancellation ends it at once.
    public var honoursRequestTimeout: Bool { true }

    /// Sends `request` once; see ``HTTPTransport/send(_:)``.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Task.checkCancellation()
        let timeout = min(request.timeout ?? options.attemptTimeout, options.attemptTimeout).atLeast(OptionLimits.timeout)
        let transfer = try CurlTransfer(request, timeout: timeout, connectTimeout: options.connectTimeout,
                                        maxResponseBytes: options.maxResponseBytes, caBundlePath: options.caBundlePath)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.start { continuation.resume(with: $0) }
            }
        } onCancel: {
            transfer.cancel()
        }
    }
}
