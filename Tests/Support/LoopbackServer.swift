import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal HTTP/1.1 server on 127.0.0.1 for end-to-end transport tests: one connection at a
/// time, `Connection: close`, answers from a handler. Test-only; no TLS, no chunked bodies.
public final class LoopbackServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// The method.
        public var method: String
        /// The path and query.
        public var path: String
        /// The headers, with lower-cased names.
        public var headers: [String: String]
        /// The body.
        public var body: Data
    }

    /// What to answer.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// The headers.
        public var headers: [(String, String)] = []
        /// The body.
        public var body: Data = Data()
        /// Close the connection without answering (to simulate a reset after sending).
        public var dropConnection = false

        /// Creates a response.
        public init(status: Int, headers: [(String, String)] = [], body: Data = Data(), dropConnection: Bool = false) {
            self.status = status
            self.headers = headers
            self.body = body
            self.dropConnection = dropConnection
        }
    }

    /// Answers one request; runs on the server's thread.
    public typealias Handler = @Sendable (Request) -> Response

    /// The port it listens on.
    public let port: UInt16
    private let listener: Int32
    private let handler: Handler
    private let received = Mutex<[Request]>([])

    /// Starts listening on an ephemeral port of 127.0.0.1.
    public init(handler: @escaping Handler) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        listener = fd
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// `http://127.0.0.1:<port>`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }

    /// Every request received so far.
    public var requests: [Request] { received.withLock { $0 } }

    /// Stops listening. Only shuts the socket down: the accept thread closes it, so its number
    /// cannot be reused by another server while this thread might still call `accept` on it.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                close(listener)
                return
            }
            var yes: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            serve(connection)
            close(connection)
        }
    }

    private func serve(_ connection: Int32) {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 4096)
        let separator = Data("\r\n\r\n".utf8)
        var headerEnd: Range<Data.Index>?
        while headerEnd == nil {
            let n = recv(connection, &chunk, chunk.count, 0)
            guard n > 0 else { return }
            buffer.append(contentsOf: chunk[0..<n])
            headerEnd = buffer.range(of: separator)
        }
        guard let headerEnd else { return }
        let head = String(decoding: buffer[..<headerEnd.lowerBound], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Data(buffer[headerEnd.upperBound...])
        while body.count < length {
            let n = recv(connection, &chunk, chunk.count, 0)
            guard n > 0 else { break }
            body.append(contentsOf: chunk[0..<n])
        }
        let request = Request(
            method: requestLine.count > 0 ? String(requestLine[0]) : "",
            path: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers, body: body)
        received.withLock { $0.append(request) }
        let response = handler(request)
        if response.dropConnection { return }
        var text = "HTTP/1.1 \(response.status) Status\r\nContent-Length: \(response.body.count)\r\nConnection: close\r\n"
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        var bytes = Data((text + "\r\n").utf8)
        bytes.append(response.body)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = send(connection, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if sent <= 0 { return }
                offset += sent
            }
        }
    }
}
