import Foundation
import SalesforceResilience
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP relay on 127.0.0.1 in front of a loopback server, for faults below any protocol: a
/// client connects to ``port`` and each connection is piped to the server's port.
///
/// - ``resetConnections()`` cuts every connection open now with a TCP reset, as a load balancer
///   or a NAT that forgets a flow does.
/// - ``blackhole`` drops every byte in both directions and keeps the connections open: a
///   half-open connection, which only keepalives or a watchdog can detect.
///
/// It works for any protocol over TCP (HTTP/1.1, HTTP/2 and gRPC). Two threads per connection.
public final class LoopbackTCPRelay: Sendable {
    /// The port clients connect to.
    public let port: UInt16
    /// The port connections are piped to.
    public let upstreamPort: UInt16
    private let listener: Int32
    private let state = Lock(State())

    private struct State {
        var links: [Int: Link] = [:]
        var counter = 0
        var blackhole = false
        var dropped = 0
        var stopped = false
    }

    /// Starts relaying from an ephemeral port to `upstreamPort` on 127.0.0.1.
    public init(to upstreamPort: UInt16) throws {
        self.upstreamPort = upstreamPort
        (listener, port) = try Loopback.listen(port: 0, reuseAddress: false)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Whether bytes are dropped (both ways) instead of relayed. Connections stay open.
    public var blackhole: Bool {
        get { state.withLock { $0.blackhole } }
        set { state.withLock { $0.blackhole = newValue } }
    }

    /// Connections accepted so far.
    public var connectionsAccepted: Int { state.withLock { $0.counter } }

    /// Bytes dropped by ``blackhole`` so far, both ways.
    public var bytesDropped: Int { state.withLock { $0.dropped } }

    /// Connections open now.
    public var openConnections: Int { state.withLock { $0.links.count } }

    /// Cuts every open connection with a TCP reset, to the client and to the server.
    public func resetConnections() {
        for link in state.withLock({ Array($0.links.values) }) { link.end(reset: true) }
    }

    /// Stops accepting and closes every connection.
    public func stop() {
        let links: [Link] = state.withLock { state in
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            return Array(state.links.values)
        }
        for link in links { link.end(reset: false) }
    }

    private func acceptLoop() {
        while let client = Loopback.accept(listener) {
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Loopback.address(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let link: Link? = state.withLock { state in
                guard !state.stopped, connected == 0 else { return nil }
                state.counter += 1
                let link = Link(number: state.counter, client: client, upstream: upstream) { [weak self] number in
                    self?.state.withLock { _ = $0.links.removeValue(forKey: number) }
                }
                state.links[state.counter] = link
                return link
            }
            guard let link else {
                close(client)
                if upstream >= 0 { close(upstream) }
                continue
            }
            for (from, to) in [(client, upstream), (upstream, client)] {
                let thread = Thread { [self] in pump(link, from: from, to: to) }
                thread.stackSize = 1 << 18
                thread.start()
            }
        }
    }

    private func pump(_ link: Link, from: Int32, to: Int32) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(from, &chunk, chunk.count, 0)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            if state.withLock({ state in
                if state.blackhole { state.dropped += count }
                return state.blackhole
            }) { continue }
            let sent = chunk.withUnsafeBytes { raw -> Bool in
                var offset = 0
                while offset < count {
                    #if canImport(Darwin)
                    let written = send(to, raw.baseAddress! + offset, count - offset, 0)
                    #else
                    let written = send(to, raw.baseAddress! + offset, count - offset, Int32(MSG_NOSIGNAL))
                    #endif
                    if written < 0, errno == EINTR { continue }
                    if written <= 0 { return false }
                    offset += written
                }
                return true
            }
            if !sent { break }
        }
        link.end(reset: false)
        link.pumpFinished()
    }

    /// One relayed connection: its two sockets, closed by the last of its two threads.
    private final class Link: @unchecked Sendable {
        let number: Int
        let client: Int32
        let upstream: Int32
        let removed: @Sendable (Int) -> Void
        private let lock = NSLock()
        private var ended = false
        private var pumpsLeft = 2

        init(number: Int, client: Int32, upstream: Int32, removed: @escaping @Sendable (Int) -> Void) {
            self.number = number
            self.client = client
            self.upstream = upstream
            self.removed = removed
        }

        /// Wakes both threads. With `reset`, both sockets close with a reset (`SO_LINGER` 0)
        /// when the last thread closes them.
        func end(reset: Bool) {
            lock.lock()
            defer { lock.unlock() }
            guard !ended else { return }
            ended = true
            if reset {
                // SHUT_RD wakes the threads without a FIN; the close then sends the reset.
                var value = linger(l_onoff: 1, l_linger: 0)
                for fd in [client, upstream] {
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
                    shutdown(fd, Int32(SHUT_RD))
                }
            } else {
                shutdown(upstream, Int32(SHUT_RDWR))
                shutdown(client, Int32(SHUT_RDWR))
            }
        }

        func pumpFinished() {
            lock.lock()
            pumpsLeft -= 1
            let last = pumpsLeft == 0
            lock.unlock()
            guard last else { return }
            close(client)
            close(upstream)
            removed(number)
        }
    }
}
