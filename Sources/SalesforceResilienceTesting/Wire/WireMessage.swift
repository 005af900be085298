import Foundation
import SalesforceResilience

/// HTTP/1.1 framing for ``LoopbackHTTPServer``: reading a request from a socket and writing a
/// response. Only what a Salesforce client sends: `Content-Length` or chunked bodies,
/// `Expect: 100-continue`, `Connection: close`.
enum WireMessage {
    static let headTerminator: [UInt8] = Array("\r\n\r\n".utf8)
    static let lineTerminator: [UInt8] = Array("\r\n".utf8)

    /// A request as read from the socket.
    struct Request {
        var method: String
        var target: String
        var version: String
        var headers: HTTPHeaders
        var body: [UInt8]
        /// `false` when the connection ended before the declared body arrived.
        var complete: Bool

        /// Whether the client asked to close the connection after this exchange.
        var wantsClose: Bool {
            let connection = headers["Connection"]?.lowercased() ?? ""
            return connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"))
        }
    }

    /// Reads one request. Returns `nil` when the peer closed (or sent garbage) before a complete
    /// head; a request whose body was cut short comes back with `complete == false`.
    static func readRequest(from socket: WireSocket, maxHeaderBytes: Int, maxBodyBytes: Int) -> Request? {
        guard let head = socket.read(through: headTerminator, limit: maxHeaderBytes) else { return nil }
        var lines = String(decoding: head.dropLast(4), as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard requestLine.count == 3 else { return nil }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.add(name: String(line[..<colon]), value: value)
        }
        var request = Request(method: String(requestLine[0]), target: String(requestLine[1]), version: String(requestLine[2]),
                              headers: headers, body: [], complete: true)
        if headers["Expect"]?.lowercased() == "100-continue" {
            socket.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        if headers["Transfer-Encoding"]?.lowercased().contains("chunked") == true {
            readChunked(into: &request, from: socket, maxBodyBytes: maxBodyBytes)
        } else if let length = headers["Content-Length"].flatMap({ Int($0) }), length > 0 {
            guard length <= maxBodyBytes else {
                request.complete = false
                return request
            }
            var received = 0
            if let body = socket.read(count: length, received: &received) {
                request.body = body
            } else {
                request.complete = false
            }
        }
        return request
    }

    private static func readChunked(into request: inout Request, from socket: WireSocket, maxBodyBytes: Int) {
        while true {
            guard let sizeLine = socket.read(through: lineTerminator, limit: 1_024),
                  let size = Int(String(decoding: sizeLine.dropLast(2), as: UTF8.self).split(separator: ";").first ?? "", radix: 16),
                  request.body.count + size <= maxBodyBytes
            else {
                request.complete = false
                return
            }
            var received = 0
            if size == 0 {
                // Trailers, if any, end with an empty line.
                while let line = socket.read(through: lineTerminator, limit: 8_192), line.count > 2 {}
                return
            }
            guard let chunk = socket.read(count: size + 2, received: &received) else {
                request.complete = false
                return
            }
            request.body += chunk.dropLast(2)
        }
    }

    /// The bytes of a response's head (status line and headers) for a body of `bodyLength`.
    static func head(for response: HTTPResponse, bodyLength: Int, close: Bool) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for field in response.headers where !["content-length", "connection", "transfer-encoding"].contains(field.name.lowercased()) {
            text += "\(field.name): \(field.value)\r\n"
        }
        text += "Content-Length: \(bodyLength)\r\n"
        if close { text += "Connection: close\r\n" }
        return Array((text + "\r\n").utf8)
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 300: "Multiple Choices"
        case 302: "Found"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}
