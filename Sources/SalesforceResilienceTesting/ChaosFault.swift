import Foundation
import SalesforceResilience

/// One fault a ``ChaosTransport`` injects: what happens, when, how often, and to which requests.
///
/// Build a schedule that reads like a runbook scenario:
/// ```swift
/// [
///     .serviceUnavailable(from: .seconds(60), for: .seconds(300), retryAfter: "10"),  // release storm
///     .lostResponses(probability: 0.05),                                              // 5 % lost
///     .throttled(from: .seconds(400), for: .seconds(30), probability: 0.5),
/// ]
/// ```
public struct ChaosFault: Sendable {
    /// What the fault does.
    public enum Effect: Sendable, Hashable {
        /// Answer with this status instead of forwarding (an empty body, or an HTML error page).
        case respond(status: Int, retryAfter: String?, html: Bool)
        /// Answer with one of these statuses, picked at random, with an HTML proxy page.
        case serverError(statuses: [Int])
        /// Wait this long (on the clock) before forwarding.
        case latency(Duration)
        /// Fail before sending: the inner transport never sees the request (`notSent`).
        case connectionFailure
        /// Answer with exactly this response instead of forwarding (a 429 with a Salesforce
        /// error body, say).
        case answer(HTTPResponse)
        /// Forward the request (the server commits it), then lose the answer (`ambiguous`). Over
        /// the wire: the connection is closed without a byte of the answer.
        case lostResponse
        /// Forward the request (committed), start the answer, and break the connection half-way
        /// through its body. Over the wire: a TCP reset after half the body; in memory: an
        /// ambiguous `connectionLost`.
        case resetMidResponse
        /// Forward the request (committed), then say nothing for this long before closing. Over
        /// the wire: no byte is sent, so only the client's attempt timeout ends the wait; in
        /// memory: a sleep on the clock, then an ambiguous `timedOut`.
        case stall(Duration)
        /// Forward the request and send the answer a few bytes at a time with a pause between
        /// pieces. In memory: the total of the pauses as latency.
        case slowDrip(bytesPerPiece: Int, interval: Duration)
    }

    /// Which requests a fault may hit.
    public enum Scope: Sendable, Hashable {
        /// Every request.
        case all
        /// Only `/services/data/…` calls (not the token endpoint).
        case dataAPI
        /// Only the OAuth token endpoint.
        case tokenEndpoint
    }

    /// What the fault does.
    public var effect: Effect
    /// When it is active, as time since the clock's origin; `nil` for always.
    public var window: Range<Duration>?
    /// The chance each matching request is hit, 0…1.
    public var probability: Double
    /// Which requests it may hit.
    public var scope: Scope
    /// The most times it strikes in a run; `nil` (the default) for no limit. With probability 1,
    /// `limit: 2` hits exactly the first two matching requests: a fault a test can count on.
    public var limit: Int?

    /// Creates a fault.
    public init(_ effect: Effect, window: Range<Duration>? = nil, probability: Double = 1, scope: Scope = .all, limit: Int? = nil) {
        self.effect = effect
        self.window = window
        self.probability = min(1, max(0, probability))
        self.scope = scope
        self.limit = limit.map { max(0, $0) }
    }

    /// A name for statistics.
    public var name: String {
        switch effect {
        case .respond(let status, _, _): "status \(status)"
        case .serverError: "server error"
        case .latency: "latency"
        case .connectionFailure: "connection failure"
        case .answer(let response): "answer \(response.status)"
        case .lostResponse: "lost response"
        case .resetMidResponse: "reset mid-response"
        case .stall: "stall"
        case .slowDrip: "slow drip"
        }
    }

    // MARK: Scenario building blocks

    /// A 503 storm, as during a Salesforce release: every request in the window gets 503
    /// (with `Retry-After` if given, and an HTML page from the edge if `html`).
    public static func serviceUnavailable(from start: Duration, for duration: Duration, retryAfter: String? = nil, html: Bool = false, probability: Double = 1) -> ChaosFault {
        ChaosFault(.respond(status: 503, retryAfter: retryAfter, html: html), window: start..<(start + duration), probability: probability)
    }

    /// A burst of 429s.
    public static func throttled(from start: Duration, for duration: Duration, probability: Double = 1, retryAfter: String? = "1") -> ChaosFault {
        ChaosFault(.respond(status: 429, retryAfter: retryAfter, html: false), window: start..<(start + duration), probability: probability)
    }

    /// A burst of 429s carrying a Salesforce error body, as some gateways and APIs send:
    /// `[{"errorCode": code, "message": message}]`.
    public static func throttled(
        from start: Duration, for duration: Duration, probability: Double = 1, retryAfter: String? = nil,
        errorCode: String, message: String
    ) -> ChaosFault {
        var headers: HTTPHeaders = [:]
        if let retryAfter { headers["Retry-After"] = retryAfter }
        return ChaosFault(.answer(.salesforceError(429, code: errorCode, message: message, headers: headers)),
                          window: start..<(start + duration), probability: probability, scope: .dataAPI)
    }

    /// Random 500/502/504 with HTML bodies, in a window or always.
    public static func randomServerErrors(probability: Double, window: Range<Duration>? = nil, statuses: [Int] = [500, 502, 504]) -> ChaosFault {
        ChaosFault(.serverError(statuses: statuses), window: window, probability: probability)
    }

    /// Added latency.
    public static func latency(_ delay: Duration, probability: Double = 1, window: Range<Duration>? = nil) -> ChaosFault {
        ChaosFault(.latency(delay), window: window, probability: probability)
    }

    /// Connections refused before anything is sent.
    public static func connectionFailures(probability: Double, window: Range<Duration>? = nil) -> ChaosFault {
        ChaosFault(.connectionFailure, window: window, probability: probability)
    }

    /// Responses lost after the server processed the request; at most `limit` of them.
    public static func lostResponses(probability: Double, window: Range<Duration>? = nil, scope: Scope = .dataAPI, limit: Int? = nil) -> ChaosFault {
        ChaosFault(.lostResponse, window: window, probability: probability, scope: scope, limit: limit)
    }

    /// Answers broken off half-way through the body, after the server processed the request.
    public static func resetsMidResponse(probability: Double, window: Range<Duration>? = nil, scope: Scope = .dataAPI) -> ChaosFault {
        ChaosFault(.resetMidResponse, window: window, probability: probability, scope: scope)
    }

    /// Requests processed and then never answered for `duration`.
    public static func stalls(_ duration: Duration, probability: Double, window: Range<Duration>? = nil, scope: Scope = .dataAPI) -> ChaosFault {
        ChaosFault(.stall(duration), window: window, probability: probability, scope: scope)
    }

    /// Answers sent `bytesPerPiece` at a time with `interval` between pieces.
    public static func slowDrip(bytesPerPiece: Int = 16, interval: Duration, probability: Double = 1, window: Range<Duration>? = nil) -> ChaosFault {
        ChaosFault(.slowDrip(bytesPerPiece: max(1, bytesPerPiece), interval: interval), window: window, probability: probability)
    }

    func applies(to request: HTTPRequest, at elapsed: Duration) -> Bool {
        if let window, !window.contains(elapsed) { return false }
        let path = request.url.path
        switch scope {
        case .all: return true
        case .dataAPI: return path.hasPrefix("/services/data/")
        case .tokenEndpoint: return path.hasSuffix("/services/oauth2/token")
        }
    }
}
