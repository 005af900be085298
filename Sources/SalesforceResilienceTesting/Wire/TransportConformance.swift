import Foundation
import SalesforceResilience

/// The contract every ``HTTPTransport`` keeps, written once as checks that any transport can run
/// over real loopback HTTP (``LoopbackHTTPServer``, keep-alive, faults at the socket):
///
/// - every answer is a response, whatever its status; no response is a ``TransportError``;
/// - a request that never left is `notSent` (safe to send again); one that may have been
///   processed is `ambiguous`, at once when the connection drops and at the attempt timeout
///   when the server goes silent;
/// - nothing reaches the server twice, or without its body, unless the caller sent it twice;
/// - cancellation is `CancellationError`; redirects come back as 3xx responses, not followed;
///   an answer larger than the limit is refused rather than buffered.
///
/// Run it from a test, once per check:
/// ```swift
/// @Test(arguments: TransportConformance.checks)
/// func conforms(_ check: TransportConformance.Check) async throws {
///     try await check.run { limits in MyTransport(timeout: limits.attemptTimeout, maxBody: limits.maxResponseBytes) }
/// }
/// ```
public enum TransportConformance {
    /// What the suite configures in the transport under test.
    public struct Limits: Sendable {
        /// The transport's bound for one attempt. 30 s: a test machine busy with other tests can
        /// take seconds to run a prompt answer's continuation, and must not see a timeout (on two
        /// cores, beside suites that start eight processes at once, 10 s was seen to run out); the
        /// lost-answer checks still tell "at once" from "at the timeout".
        public var attemptTimeout: Duration = .seconds(30)
        /// The bound the silent-server check gives the transport instead, to see it end the
        /// attempt on time. 2 s.
        public var stallTimeout: Duration = .seconds(2)
        /// The largest answer the transport accepts. 64 KB.
        public var maxResponseBytes = 65_536
    }

    /// Builds the transport under test for the given limits.
    public typealias MakeTransport = @Sendable (Limits) -> any HTTPTransport

    /// A broken promise: which check, and what happened instead.
    public struct Violation: Error, CustomStringConvertible {
        /// The check's name.
        public var check: String
        /// What the transport did.
        public var detail: String
        /// `check: detail`.
        public var description: String { "\(check): \(detail)" }
    }

    /// One promise of the contract.
    public struct Check: Sendable, CustomStringConvertible {
        /// What it checks.
        public let name: String
        let body: @Sendable (Context) async throws -> Void

        /// Runs the check against the transport `make` builds; throws ``Violation`` when the
        /// transport breaks the promise.
        public func run(_ make: @escaping MakeTransport) async throws {
            try await body(Context(name: name, limits: Limits(), make: make))
        }

        /// The name.
        public var description: String { name }
    }

    /// What a check body works with.
    struct Context: Sendable {
        let name: String
        let limits: Limits
        let make: MakeTransport

        var transport: any HTTPTransport { make(limits) }

        /// The transport with the silent-server check's shorter attempt timeout.
        var stallTransport: any HTTPTransport {
            var short = limits
            short.attemptTimeout = limits.stallTimeout
            return make(short)
        }

        func require(_ condition: Bool, _ detail: @autoclosure () -> String) throws {
            if !condition { throw Violation(check: name, detail: detail()) }
        }

        /// The error `body` throws, or a violation if it returns.
        func failure(_ body: () async throws -> HTTPResponse) async throws -> any Error {
            do {
                let response = try await body()
                throw Violation(check: name, detail: "expected a failure, got \(response)")
            } catch let violation as Violation {
                throw violation
            } catch {
                return error
            }
        }

        func transportError(_ body: () async throws -> HTTPResponse) async throws -> TransportError {
            let error = try await failure(body)
            guard let transportError = error as? TransportError else {
                throw Violation(check: name, detail: "expected a TransportError, got \(type(of: error)): \(error)")
            }
            return transportError
        }
    }

    /// A keep-alive server answering `handler`, with `faults` on `/services/data/…` paths only
    /// (a warm-up request elsewhere leaves an open connection behind).
    static func server(_ faults: [ChaosFault] = [], handler: @escaping MockTransport.Handler = { _ in .json(200, #"{"ok":true}"#) }) throws -> LoopbackHTTPServer {
        let clock = SystemClock()
        return try LoopbackHTTPServer(serving: MockTransport(handler: handler),
                                      chaos: ChaosSchedule(faults: faults, seed: 1, clock: clock, origin: clock.now))
    }

    static func dataURL(_ server: LoopbackHTTPServer) -> URL {
        server.baseURL.appendingPathComponent("services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-1")
    }

    /// Every check.
    public static var checks: [Check] { basics + failures + limits }
}
