import Foundation
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceObservability
import Synchronization

/// The client PaymentService posts through: the AsyncHTTPClient transport, traced, to a real org
/// or to an embedded org (the example's simulator, served over loopback HTTP with an incident).
struct ServiceWiring {
    let client: SalesforceClient
    let transport: AsyncHTTPClientTransport
    /// The embedded org, when there is no `--instance-url`.
    let embedded: (any EmbeddedOrg)?
    let description: String
    private let counter: RequestCounter

    /// - Throws: ``ServiceError`` for options that cannot work, or what creating the embedded org
    ///   or the client threw; nothing is left running then.
    init(options: ServiceOptions, environment: [String: String], credentialStore: (any CredentialStore)?, embeddedOrg: EmbeddedOrgFactory?,
         events: ResilienceEventSink) throws {
        let org: URL?
        if let url = options.instanceURL {
            org = url
            guard url.scheme?.lowercased() == "https" || options.allowHTTPLoopback else {
                throw ServiceError.insecureInstanceURL(url.absoluteString)
            }
            let hasToken = !(environment["SF_ACCESS_TOKEN"] ?? "").isEmpty
            guard hasToken || (environment["SF_CLIENT_ID"] != nil && environment["SF_CLIENT_SECRET"] != nil) else {
                throw ServiceError.missingCredentials
            }
            embedded = nil
        } else {
            guard let embeddedOrg else { throw ServiceError.noEmbeddedOrg }
            embedded = try embeddedOrg(options.seed)
            org = nil
        }
        // An AsyncHTTPClient client must be shut down before it goes away, even when what follows fails.
        transport = AsyncHTTPClientTransport(options: .init(attemptTimeout: options.batchTimeout))
        counter = RequestCounter()
        do {
            (client, description) = try Self.client(org: org, options: options, environment: environment, credentialStore: credentialStore,
                                                    embedded: embedded, transport: CountingTransport(inner: transport, counter: counter),
                                                    events: events)
        } catch {
            try? transport.syncShutdown()
            embedded?.stop()
            throw error
        }
    }

    /// The client for `org`, or else for the embedded org.
    private static func client(org: URL?, options: ServiceOptions, environment: [String: String], credentialStore: (any CredentialStore)?,
                               embedded: (any EmbeddedOrg)?, transport: any HTTPTransport,
                               events: ResilienceEventSink) throws -> (SalesforceClient, String) {
        let instanceURL: URL
        let provider: any TokenProvider
        let description: String
        if let org {
            instanceURL = org
            if let token = environment["SF_ACCESS_TOKEN"], !token.isEmpty {
                provider = StaticTokenProvider(accessToken: token)
            } else {
                provider = OAuthTokenProvider(loginURL: org,
                                              grant: .clientCredentials(clientID: environment["SF_CLIENT_ID"] ?? "", clientSecret: environment["SF_CLIENT_SECRET"] ?? ""),
                                              transport: transport, allowHTTPLoopback: options.allowHTTPLoopback, events: events)
            }
            description = org.absoluteString
        } else if let embedded {
            instanceURL = embedded.url
            provider = OAuthTokenProvider(loginURL: instanceURL, grant: .clientCredentials(clientID: "payment-service", clientSecret: "embedded"),
                                          transport: transport, allowHTTPLoopback: true, events: events)
            description = embedded.summaryDescription
        } else {
            throw ServiceError.noEmbeddedOrg
        }
        var configuration = SalesforceConfiguration(instanceURL: instanceURL, callTimeout: options.batchTimeout,
                                                    allowHTTPLoopback: embedded != nil || options.allowHTTPLoopback)
        if let credentialStore { configuration.credentialStore = credentialStore }
        configuration.callMiddleware = [TracingMiddleware(.call)]
        configuration.attemptMiddleware = [TracingMiddleware(.attempt)]
        return (try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider, events: events), description)
    }

    /// Requests sent, token requests included.
    var requests: Int { counter.count }

    func stop() { embedded?.stop() }
}

/// Why the service cannot start.
public enum ServiceError: Error, CustomStringConvertible, Equatable {
    /// A plain-http instance URL without `--allow-http-loopback`.
    case insecureInstanceURL(String)
    /// `--instance-url` without credentials in the environment.
    case missingCredentials
    /// No `--instance-url`, in a build without the embedded simulator.
    case noEmbeddedOrg
    /// A Pub/Sub endpoint that is not `host:port`.
    case invalidEndpoint(String)

    /// What to do.
    public var description: String {
        switch self {
        case .insecureInstanceURL(let url): "--instance-url \(url) must be https, or http on 127.0.0.1 with --allow-http-loopback"
        case .missingCredentials: "--instance-url needs SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET"
        case .noEmbeddedOrg: "this build has no embedded simulator (the EmbeddedSimulator trait is off): pass --instance-url"
        case .invalidEndpoint(let endpoint): "--pubsub-endpoint \(endpoint) is not host:port"
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
