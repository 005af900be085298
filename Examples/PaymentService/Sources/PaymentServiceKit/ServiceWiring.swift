import Foundation
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceObservability
import SalesforceResilienceTesting
import Synchronization

/// The client PaymentService posts through: the AsyncHTTPClient transport, traced, to a real org
/// or to an embedded simulator served over loopback HTTP with an incident on the wall clock.
struct ServiceWiring {
    let client: SalesforceClient
    let transport: AsyncHTTPClientTransport
    /// The embedded org, when there is no `--instance-url`.
    let embedded: SalesforceSimulator?
    let description: String
    private let server: LoopbackHTTPServer?
    private let counter: RequestCounter

    init(options: ServiceOptions, environment: [String: String], credentialStore: (any CredentialStore)?, events: ResilienceEventSink) throws {
        transport = AsyncHTTPClientTransport(options: .init(attemptTimeout: options.batchTimeout))
        counter = RequestCounter()
        let counted = CountingTransport(inner: transport, counter: counter)
        let instanceURL: URL
        let provider: any TokenProvider
        if let url = options.instanceURL {
            guard url.scheme?.lowercased() == "https" || options.allowHTTPLoopback else {
                throw ServiceError.insecureInstanceURL(url.absoluteString)
            }
            instanceURL = url
            if let token = environment["SF_ACCESS_TOKEN"], !token.isEmpty {
                provider = StaticTokenProvider(accessToken: token)
            } else if let id = environment["SF_CLIENT_ID"], let secret = environment["SF_CLIENT_SECRET"] {
                provider = OAuthTokenProvider(loginURL: url, grant: .clientCredentials(clientID: id, clientSecret: secret), transport: counted,
                                              allowHTTPLoopback: options.allowHTTPLoopback, events: events)
            } else {
                throw ServiceError.missingCredentials
            }
            server = nil
            embedded = nil
            description = url.absoluteString
        } else {
            // The runbook's incident, in real time: a 503 storm from 10 s to 30 s, 5 % of committed
            // writes answered by a closed connection, 1 % proxy errors.
            let clock = SystemClock()
            let schedule = ChaosSchedule(faults: [
                .serviceUnavailable(from: .seconds(10), for: .seconds(20)),
                .lostResponses(probability: 0.05),
                .randomServerErrors(probability: 0.01),
            ], seed: options.seed, clock: clock, origin: clock.now)
            var served: SalesforceSimulator?
            let server = try LoopbackHTTPServer(chaos: schedule) { url in
                let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: clock)
                served = org
                return org
            }
            self.server = server
            embedded = served
            instanceURL = server.baseURL
            provider = OAuthTokenProvider(loginURL: instanceURL, grant: .clientCredentials(clientID: "payment-service", clientSecret: "embedded"),
                                          transport: counted, allowHTTPLoopback: true, events: events)
            description = "an embedded simulator at \(instanceURL.absoluteString) (seed \(options.seed): 503 storm from 10 s to 30 s, 5 % lost answers)"
        }
        var configuration = SalesforceConfiguration(instanceURL: instanceURL, callTimeout: options.batchTimeout,
                                                    allowHTTPLoopback: options.instanceURL == nil || options.allowHTTPLoopback)
        if let credentialStore { configuration.credentialStore = credentialStore }
        configuration.callMiddleware = [TracingMiddleware(.call)]
        configuration.attemptMiddleware = [TracingMiddleware(.attempt)]
        client = try SalesforceClient(configuration: configuration, transport: counted, tokenProvider: provider, events: events)
    }

    /// Requests sent, token requests included.
    var requests: Int { counter.count }

    func stop() { server?.stop() }
}

/// Why the service cannot start.
public enum ServiceError: Error, CustomStringConvertible, Equatable {
    /// A plain-http instance URL without `--allow-http-loopback`.
    case insecureInstanceURL(String)
    /// `--instance-url` without credentials in the environment.
    case missingCredentials

    /// What to do.
    public var description: String {
        switch self {
        case .insecureInstanceURL(let url): "--instance-url \(url) must be https, or http on 127.0.0.1 with --allow-http-loopback"
        case .missingCredentials: "--instance-url needs SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET"
        }
    }
}

final class RequestCounter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}

/// Counts every request that reaches the transport.
struct CountingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let counter: RequestCounter

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        counter.increment()
        return try await inner.send(request)
    }
}
