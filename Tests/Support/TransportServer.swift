import Dispatch
import Foundation
import SalesforceResilience
import Synchronization

/// Serves an ``HTTPTransport`` — typically the `SalesforceSimulator` — over loopback HTTP, so a
/// separate process (the PaymentPoster executable) can talk to it with `URLSessionTransport`.
public final class TransportServer: Sendable {
    private final class Target: Sendable {
        let transport = Mutex<(any HTTPTransport)?>(nil)
    }

    private final class Answer: Sendable {
        let response = Mutex<HTTPResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
    }

    /// The HTTP server.
    public let server: LoopbackServer
    /// The transport being served.
    public let transport: any HTTPTransport

    /// Starts a server and serves the transport `make` builds from the server's base URL (so a
    /// simulator can report it as its `instance_url`).
    public init(_ make: (URL) -> any HTTPTransport) throws {
        let target = Target()
        server = try LoopbackServer { request in
            guard let transport = target.transport.withLock({ $0 }) else { return .init(status: 503) }
            return TransportServer.answer(request, with: transport)
        }
        transport = make(server.baseURL)
        target.transport.withLock { [transport] in $0 = transport }
    }

    /// Stops the server.
    public func stop() { server.stop() }

    /// Runs `request` through `transport`, blocking the server's thread (not a Swift
    /// concurrency thread) until it answers.
    private static func answer(_ request: LoopbackServer.Request, with transport: any HTTPTransport) -> LoopbackServer.Response {
        guard let url = URL(string: "http://127.0.0.1" + request.path) else { return .init(status: 400) }
        let headers = HTTPHeaders(request.headers.map { ($0.key, $0.value) })
        let forwarded = HTTPRequest(method: HTTPMethod(rawValue: request.method), url: url, headers: headers,
                                    body: request.body.isEmpty ? nil : request.body)
        let answer = Answer()
        Task {
            let response = try? await transport.send(forwarded)
            answer.response.withLock { $0 = response }
            answer.done.signal()
        }
        answer.done.wait()
        guard let response = answer.response.withLock({ $0 }) else { return .init(status: 502) }
        let passed = response.headers.filter { !["content-length", "connection"].contains($0.name.lowercased()) }
        return .init(status: response.status, headers: passed.map { ($0.name, $0.value) }, body: response.body)
    }
}
