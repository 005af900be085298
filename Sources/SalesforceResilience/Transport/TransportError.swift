/// A failure to get any HTTP response, with what is known about whether the request went out.
///
/// The distinction decides whether a retry can duplicate a write: a request that was
/// ``Delivery-swift.enum/notSent`` never reached the server and is always safe to send again;
/// an ``Delivery-swift.enum/ambiguous`` one may have been processed, so only idempotent requests
/// are retried after it.
public struct TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whether the request may have reached the server.
    public enum Delivery: String, Sendable, Hashable {
        /// The request certainly did not reach the server (refused, DNS, TLS handshake).
        case notSent
        /// The request may have been received and processed (timeout, reset after sending).
        case ambiguous
    }

    /// What went wrong, as far as the transport can tell.
    public enum Kind: String, Sendable, Hashable {
        /// The host refused the connection.
        case connectionRefused
        /// The host name did not resolve.
        case dnsFailure
        /// The TLS handshake failed (certificate or protocol).
        case tlsFailure
        /// There was no network connectivity.
        case notConnected
        /// The URL could not be used.
        case badURL
        /// No complete response arrived within the attempt timeout.
        case timedOut
        /// The connection dropped while the request or response was in flight.
        case connectionLost
        /// The server's reply was not valid HTTP.
        case badResponse
        /// Anything else.
        case other
    }

    /// Whether the request may have reached the server.
    public var delivery: Delivery
    /// What went wrong.
    public var kind: Kind
    /// A human-readable detail, free of credentials.
    public var message: String
    /// The platform error code (for example `URLError.Code.rawValue`), when there was one.
    public var underlyingCode: Int?

    /// Creates a transport error.
    public init(delivery: Delivery, kind: Kind, message: String, underlyingCode: Int? = nil) {
        self.delivery = delivery
        self.kind = kind
        self.message = message
        self.underlyingCode = underlyingCode
    }

    /// A request that never left: safe to resend.
    public static func notSent(_ kind: Kind, _ message: String) -> TransportError {
        TransportError(delivery: .notSent, kind: kind, message: message)
    }

    /// A request whose fate is unknown: resend only if idempotent.
    public static func ambiguous(_ kind: Kind, _ message: String) -> TransportError {
        TransportError(delivery: .ambiguous, kind: kind, message: message)
    }

    /// `transport error (delivery, kind): message`.
    public var description: String { "transport error (\(delivery.rawValue), \(kind.rawValue)): \(message)" }
}
