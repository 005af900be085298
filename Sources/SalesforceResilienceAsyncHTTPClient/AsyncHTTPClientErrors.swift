#if AsyncHTTPClient // the package trait that brings this module's dependencies
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SalesforceResilience
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension AsyncHTTPClientTransport {
    /// What an AsyncHTTPClient or SwiftNIO error says about whether the request went out.
    ///
    /// Failures to obtain a connection (refused, unresolvable, connect or TLS handshake timeout,
    /// no connection from the pool in time) happen before a byte of the request is written:
    /// `notSent`. Anything after — a closed or reset connection, a read timeout, an unparseable
    /// answer — may follow a processed request: `ambiguous`. So does anything not recognised.
    static func map(_ error: any Error, limit: Int) -> any Error {
        switch error {
        case is CancellationError:
            return error
        case let error as TransportError:
            return error
        case is NIOTooManyBytesError:
            return TransportError.ambiguous(.badResponse, "the answer is larger than the limit of \(limit) bytes; abandoned")
        case let error as HTTPClientError:
            return map(error)
        case let error as NIOConnectionError:
            let refused = error.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
            return refused
                ? TransportError(delivery: .notSent, kind: .connectionRefused, message: "the host refused the connection")
                : TransportError(delivery: .notSent, kind: error.dnsAAAAError != nil || error.dnsAError != nil ? .dnsFailure : .other,
                                 message: "no connection could be made: \(error)")
        case let error as ChannelError:
            if case .connectTimeout = error {
                return TransportError(delivery: .notSent, kind: .timedOut, message: "no connection within the connect timeout")
            }
            return TransportError(delivery: .ambiguous, kind: .connectionLost, message: "the connection failed: \(error)")
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return TransportError(delivery: .notSent, kind: .connectionRefused, message: "the host refused the connection")
        case let error as IOError where error.errnoCode == ECONNRESET || error.errnoCode == EPIPE:
            return TransportError(delivery: .ambiguous, kind: .connectionLost, message: "the connection was reset while the request or its answer was in flight")
        case is HTTPParserError:
            return TransportError(delivery: .ambiguous, kind: .badResponse, message: "the answer was not valid HTTP: \(error)")
        default:
            return TransportError(delivery: .ambiguous, kind: .other, message: "the request failed: \(String(describing: error))")
        }
    }

    private static func map(_ error: HTTPClientError) -> any Error {
        switch error {
        case .cancelled:
            return CancellationError()
        case .connectTimeout, .getConnectionFromPoolTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout:
            return TransportError(delivery: .notSent, kind: .timedOut, message: "no connection within the connect timeout (\(error.shortDescription))")
        case .tlsHandshakeTimeout:
            return TransportError(delivery: .notSent, kind: .tlsFailure, message: "the TLS handshake did not finish in time")
        case .invalidURL, .emptyHost, .emptyScheme:
            return TransportError(delivery: .notSent, kind: .badURL, message: "the URL cannot be used (\(error.shortDescription))")
        case .remoteConnectionClosed:
            return TransportError(delivery: .ambiguous, kind: .badResponse, message: "the server closed the connection without a complete answer")
        case .readTimeout, .deadlineExceeded:
            return TransportError(delivery: .ambiguous, kind: .timedOut, message: "no answer in time (\(error.shortDescription))")
        default:
            return TransportError(delivery: .ambiguous, kind: .other, message: "the request failed (\(error.shortDescription))")
        }
    }
}
#endif
