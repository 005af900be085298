import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The sessions of ``URLSessionTransport/ConnectionPolicy-swift.enum/freshPerAttempt``: each
/// attempt borrows a session that holds no open connection, so the HTTP stack has nothing to
/// reuse and never re-sends a request on its own.
///
/// Every request asks for `Connection: close`. A session goes back to the pool only when the
/// answer carried `Connection: close` too: the server said it closes, and libcurl drops such a
/// connection after the transfer. After any other outcome — a server that did not say so (it
/// may keep the connection open), a lost answer, a timeout, a cancellation — the session is
/// retired and invalidated, as every session was in the first version of this transport.
/// Sessions are therefore created and torn down only when a server ignores `Connection: close`
/// or an attempt fails: tearing a session down races inside FoundationNetworking on Linux (a
/// known crash family), so a compliant server should never pay for it.
final class FreshConnectionSessions: Sendable {
    /// Idle sessions kept for later attempts; more concurrent attempts than this make sessions
    /// that are retired afterwards.
    static let maximumIdle = 32

    private let idle = Lock<[URLSession]>([])
    private let make: @Sendable () -> URLSession

    init(make: @escaping @Sendable () -> URLSession) {
        self.make = make
    }

    /// A session with no open connection.
    func borrow() -> URLSession {
        idle.withLock { $0.popLast() } ?? make()
    }

    /// Takes `session` back after an attempt whose answer carried `Connection: close`
    /// (`closed`), or retires it.
    func giveBack(_ session: URLSession, connectionClosed closed: Bool) {
        let kept = closed && idle.withLock { idle in
            guard idle.count < Self.maximumIdle else { return false }
            idle.append(session)
            return true
        }
        if !kept { session.finishTasksAndInvalidate() }
    }

    /// The sessions waiting to be borrowed.
    var idleCount: Int { idle.withLock { $0.count } }

    /// Whether an answer's `Connection` header says the server closes the connection.
    static func saysClose(_ headers: HTTPHeaders) -> Bool {
        guard let value = headers["Connection"] else { return false }
        return value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
    }
}
