import Foundation
import SalesforceResilience

extension TransportConformance {
    /// Requests and answers arrive whole, whatever the status.
    static var basics: [Check] {
        [
            Check(name: "method, headers and body reach the server; status, headers and body come back") { context in
                let server = try server(handler: { request in
                    request.url.path.hasSuffix("/empty")
                        ? HTTPResponse(status: 204)
                        : HTTPResponse(status: 201, headers: ["X-Echo": request.headers["x-custom"] ?? ""], body: request.body ?? Data())
                })
                defer { server.stop() }
                let body = Data(#"{"Amount__c":12.5}"#.utf8)
                let transport = context.transport
                let response = try await transport.send(HTTPRequest(
                    method: .patch, url: dataURL(server), headers: ["X-Custom": "abc", "Content-Type": "application/json"], body: body))
                try context.require(response.status == 201, "status \(response.status), not 201")
                try context.require(response.headers["x-echo"] == "abc", "the response header X-Echo is \(response.headers["x-echo"] ?? "missing")")
                try context.require(response.body == body, "the body came back as \(response.body.count) bytes")
                let exchange = server.exchanges.first
                try context.require(exchange?.method == "PATCH" && exchange?.path == "/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1",
                                    "the server saw \(exchange?.method ?? "-") \(exchange?.path ?? "-")")
                let empty = try await transport.send(HTTPRequest(method: .delete, url: server.baseURL.appendingPathComponent("empty")))
                try context.require(empty.status == 204 && empty.body.isEmpty, "a 204 came back as \(empty)")
            },
            Check(name: "an error status, even an HTML page from a proxy, is a response, not an error") { context in
                let server = try server(handler: { _ in .html(502, title: "502 Bad Gateway") })
                defer { server.stop() }
                let response = try await context.transport.send(HTTPRequest(method: .get, url: dataURL(server)))
                try context.require(response.status == 502, "status \(response.status)")
                try context.require(String(decoding: response.body, as: UTF8.self).contains("<title>502 Bad Gateway</title>"), "the HTML body was lost")
            },
            Check(name: "a redirect comes back as a response and is not followed") { context in
                let server = try server(handler: { request in
                    request.url.path == "/start" ? HTTPResponse(status: 302, headers: ["Location": "/elsewhere"]) : .status(200)
                })
                defer { server.stop() }
                let response = try await context.transport.send(HTTPRequest(
                    method: .get, url: server.baseURL.appendingPathComponent("start"), headers: ["Authorization": "Bearer SECRET"]))
                try context.require(response.status == 302, "status \(response.status), not 302")
                try context.require(server.exchanges.map(\.path) == ["/start"], "the server saw \(server.exchanges.map(\.path))")
            },
            Check(name: "sixteen concurrent attempts all complete") { context in
                let server = try server()
                defer { server.stop() }
                let transport = context.transport
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<16 { group.addTask { try await transport.send(HTTPRequest(method: .get, url: dataURL(server))).status } }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                try context.require(statuses == Array(repeating: 200, count: 16), "statuses \(statuses)")
            },
            Check(name: "an answer dripped a few bytes at a time arrives whole") { context in
                let body = String(repeating: "abcdefgh", count: 64)
                let server = try server([.slowDrip(bytesPerPiece: 100, interval: .milliseconds(5))], handler: { _ in .json(200, body) })
                defer { server.stop() }
                let response = try await context.transport.send(HTTPRequest(method: .get, url: dataURL(server)))
                try context.require(String(decoding: response.body, as: UTF8.self) == body, "the body arrived as \(response.body.count) bytes")
            },
        ]
    }

    /// No answer: said so, in time, and never sent again by the transport.
    static var failures: [Check] {
        var checks = [
            Check(name: "a refused connection is notSent") { context in
                let server = try server()
                let url = dataURL(server)
                server.stop()
                let error = try await context.transportError { try await context.transport.send(HTTPRequest(method: .post, url: url, body: Data("{}".utf8))) }
                try context.require(error.delivery == .notSent, "delivery \(error.delivery)")
            },
            Check(name: "an answer broken off half-way through its body is ambiguous") { context in
                let server = try server([.resetsMidResponse(probability: 1)], handler: { _ in .json(200, String(repeating: "x", count: 4_000)) })
                defer { server.stop() }
                let error = try await context.transportError { try await context.transport.send(HTTPRequest(method: .get, url: dataURL(server))) }
                try context.require(error.delivery == .ambiguous, "delivery \(error.delivery)")
            },
            Check(name: "a server that goes silent ends the attempt at its timeout, as ambiguous timedOut") { context in
                let server = try server([.stalls(.seconds(30), probability: 1)])
                defer { server.stop() }
                let started = ContinuousClock.now
                let error = try await context.transportError { try await context.stallTransport.send(HTTPRequest(method: .get, url: dataURL(server))) }
                let waited = ContinuousClock.now - started
                let timeout = context.limits.stallTimeout
                try context.require(error.delivery == .ambiguous && error.kind == .timedOut, "\(error)")
                try context.require(waited >= timeout && waited < timeout + .seconds(2), "the attempt ended after \(waited), its timeout is \(timeout)")
            },
            Check(name: "cancelling the caller's task ends the attempt with CancellationError") { context in
                let (arrived, arrival) = AsyncStream<Void>.makeStream()
                let server = try server([.stalls(.seconds(30), probability: 1)], handler: { _ in
                    arrival.yield()
                    return .status(200)
                })
                defer { server.stop() }
                let transport = context.transport
                let task = Task { try await transport.send(HTTPRequest(method: .get, url: dataURL(server))) }
                for await _ in arrived { break }
                task.cancel()
                let error = try await context.failure { try await task.value }
                try context.require(error is CancellationError, "got \(type(of: error)): \(error)")
            },
        ]
        for method in [HTTPMethod.patch, .put, .post, .get] {
            checks.append(Check(name: "a lost answer to a \(method) on a kept-alive connection is ambiguous at once and never re-sent") { context in
                let server = try server([.lostResponses(probability: 1)])
                defer { server.stop() }
                let transport = context.transport
                _ = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("warm-up")))
                let body = method == .get ? nil : Data(#"{"Amount__c":12.5}"#.utf8)
                let started = ContinuousClock.now
                let error = try await context.transportError {
                    try await transport.send(HTTPRequest(method: method, url: dataURL(server), headers: ["Content-Type": "application/json"], body: body))
                }
                let waited = ContinuousClock.now - started
                try context.require(error.delivery == .ambiguous, "delivery \(error.delivery)")
                try context.require(waited < context.limits.attemptTimeout, "the loss took \(waited) to surface, as long as a timeout")
                let sent = server.exchanges.filter { $0.path.hasPrefix("/services/data") }
                try context.require(sent.count == 1, "the server received the request \(sent.count) times")
                try context.require(sent.allSatisfy { $0.complete && $0.body.count == (body?.count ?? 0) }, "a request arrived without its whole body")
            })
        }
        return checks
    }

    /// Bounded memory.
    static var limits: [Check] {
        [
            Check(name: "an answer larger than the limit is refused as ambiguous badResponse; one at the limit arrives") { context in
                let limit = context.limits.maxResponseBytes
                let server = try server(handler: { request in
                    HTTPResponse(status: 200, body: Data(repeating: 0x61, count: request.url.path.hasSuffix("/big") ? limit + 1 : limit))
                })
                defer { server.stop() }
                let transport = context.transport
                let fits = try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("fits")))
                try context.require(fits.body.count == limit, "an answer of exactly the limit came back as \(fits.body.count) bytes")
                let error = try await context.transportError {
                    try await transport.send(HTTPRequest(method: .get, url: server.baseURL.appendingPathComponent("big")))
                }
                try context.require(error.delivery == .ambiguous && error.kind == .badResponse, "\(error)")
            },
        ]
    }
}
