import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP socket on the server side of ``LoopbackHTTPServer``, with a read buffer.
///
/// Not `Sendable`: one connection thread owns it.
final class WireSocket {
    let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(descriptor: Int32) {
        self.descriptor = descriptor
        var yes: Int32 = 1
        // Without TCP_NODELAY a keep-alive exchange waits ~40 ms on the delayed-ACK timer.
        setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &yes, socklen_t(MemoryLayout<Int32>.size))
        #endif
    }

    /// Bytes buffered but not yet consumed.
    var buffered: Int { buffer.count - start }

    /// Reads more bytes into the buffer. Returns `false` at end of stream or on error.
    func fill() -> Bool {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = recv(descriptor, &chunk, chunk.count, 0)
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return true
            }
            if count < 0, errno == EINTR { continue }
            return false
        }
    }

    /// Consumes and returns the bytes up to and including the first occurrence of `terminator`,
    /// reading as needed; `nil` at end of stream or past `limit` bytes.
    func read(through terminator: [UInt8], limit: Int) -> [UInt8]? {
        while true {
            if let end = find(terminator) {
                let bytes = Array(buffer[start..<end])
                start = end
                return bytes
            }
            guard buffered <= limit, fill() else { return nil }
        }
    }

    /// Consumes exactly `count` bytes, reading as needed; `nil` if the stream ends first.
    /// `received` reports how many arrived when it ended early.
    func read(count: Int, received: inout Int) -> [UInt8]? {
        while buffered < count {
            guard fill() else {
                received = buffered
                return nil
            }
        }
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        return bytes
    }

    /// Writes every byte; `false` if the peer went away.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                #if canImport(Darwin)
                let sent = send(descriptor, raw.baseAddress! + offset, raw.count - offset, 0)
                #else
                let sent = send(descriptor, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                #endif
                if sent < 0, errno == EINTR { continue }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
    }

    /// Closes with a TCP reset instead of an orderly FIN (`SO_LINGER` with a zero timeout).
    func reset() {
        var value = linger(l_onoff: 1, l_linger: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size))
        shutdownAndClose()
    }

    /// Closes with an orderly FIN.
    func shutdownAndClose() {
        close(descriptor)
    }

    private func find(_ terminator: [UInt8]) -> Int? {
        guard buffered >= terminator.count else { return nil }
        var index = start
        let last = buffer.count - terminator.count
        while index <= last {
            if buffer[index] == terminator[0], terminator.indices.allSatisfy({ buffer[index + $0] == terminator[$0] }) {
                return index + terminator.count
            }
            index += 1
        }
        return nil
    }
}

/// The loopback sockets the wire test servers open.
enum Loopback {
    /// 127.0.0.1 at `port`.
    static func address(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// A socket listening on 127.0.0.1 at `port` (0: an ephemeral one), and the port it got.
    static func listen(port: UInt16, reuseAddress: Bool) throws -> (descriptor: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        if reuseAddress {
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = Self.address(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #if canImport(Glibc)
        let listening = bound == 0 && Glibc.listen(fd, 128) == 0
        #else
        let listening = bound == 0 && Darwin.listen(fd, 128) == 0
        #endif
        guard listening else {
            let code = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    /// The next connection on `listener`; `nil` once the listener is shut down (then closed).
    static func accept(_ listener: Int32) -> Int32? {
        while true {
            #if canImport(Glibc)
            let fd = Glibc.accept(listener, nil, nil)
            #else
            let fd = Darwin.accept(listener, nil, nil)
            #endif
            if fd >= 0 { return fd }
            if errno == EINTR || errno == ECONNABORTED { continue }
            close(listener)
            return nil
        }
    }
}
