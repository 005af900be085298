import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

/// The client PaymentPoster uses: on the simulator with chaos, or on a real org.
struct PosterWiring {
    let client: SalesforceClient
    let org: SalesforceSimulator?
    let description: String
}

/// What the real-org mode runs on; tests swap in a virtual clock so a storm over real HTTP
/// passes in milliseconds.
struct PosterRuntime: Sendable {
    var clock: any ResilienceClock = SystemClock()
    var transport: any HTTPTransport = StandardTransport.make()
}

/// Which org a journal belongs to.
struct OrgIdentity: Equatable {
    /// The org id (`00D…`) from the token's identity URL; `nil` for a bare access token.
    var id: String?
    /// The instance host.
    var instance: String

    /// Asks the token endpoint (the first call of any run) who the org is.
    static func of(_ client: SalesforceClient) async throws -> OrgIdentity {
        let token = try await client.tokens.token()
        let instance = (token.instanceURL ?? client.configuration.instanceURL).host ?? client.configuration.instanceURL.absoluteString
        // https://login.salesforce.com/id/00Dxx0000001gPFEAY/005xx000001SwiUAAS
        let parts = token.identityURL.flatMap { URL(string: $0)?.pathComponents } ?? []
        let id = parts.count >= 4 && parts[parts.count - 3] == "id" ? parts[parts.count - 2] : nil
        return OrgIdentity(id: id, instance: instance)
    }

    var description: String { id.map { "\($0) (\(instance))" } ?? instance }
}

extension PaymentPoster {
    /// The token provider the environment asks for: a fixed access token, the refresh-token
    /// flow, or client credentials, in that order.
    static func credentials(_ environment: [String: String], instanceURL: URL, options: PosterOptions, transport: any HTTPTransport,
                            clock: any ResilienceClock, events: ResilienceEventSink) throws -> any TokenProvider {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if let token = value("SF_ACCESS_TOKEN") { return StaticTokenProvider(accessToken: token) }
        let grant: OAuthTokenProvider.Grant
        if let refreshToken = value("SF_REFRESH_TOKEN") {
            guard let id = value("SF_CLIENT_ID") else { throw PosterOptions.UsageError(description: "SF_REFRESH_TOKEN needs SF_CLIENT_ID (the connected app's consumer key)") }
            grant = .refreshToken(refreshToken: refreshToken, clientID: id, clientSecret: value("SF_CLIENT_SECRET"))
        } else if let id = value("SF_CLIENT_ID"), let secret = value("SF_CLIENT_SECRET") {
            grant = .clientCredentials(clientID: id, clientSecret: secret)
        } else {
            throw PosterOptions.UsageError(
                description: "--instance-url needs SF_ACCESS_TOKEN; or SF_REFRESH_TOKEN and SF_CLIENT_ID; or SF_CLIENT_ID and SF_CLIENT_SECRET")
        }
        var loginURL = instanceURL
        if let text = value("SF_LOGIN_URL") {
            guard let url = URL(string: text), url.host != nil else { throw PosterOptions.UsageError(description: "SF_LOGIN_URL \(text) is not a URL") }
            loginURL = url
        }
        return OAuthTokenProvider(loginURL: loginURL, grant: grant, transport: transport, clock: clock,
                                  allowHTTPLoopback: options.allowHTTPLoopback, events: events)
    }

    static func makeWiring(_ options: PosterOptions, environment: [String: String], existing: (SalesforceSimulator, VirtualClock)?,
                           counters: PosterCounters, runtime: PosterRuntime) throws -> PosterWiring {
        if let instanceURL = options.instanceURL {
            try options.validateInstanceURL()
            let transport = CountingTransport(inner: runtime.transport, counters: counters)
            let provider = try credentials(environment, instanceURL: instanceURL, options: options, transport: transport,
                                           clock: runtime.clock, events: counters.sink)
            var configuration = SalesforceConfiguration(instanceURL: instanceURL, allowHTTPLoopback: options.allowHTTPLoopback)
            configuration.credentialStore = options.tokenStore.map { FileCredentialStore(path: $0, clock: runtime.clock) }
            let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider,
                                              events: counters.sink, clock: runtime.clock)
            return PosterWiring(client: client, org: nil, description: instanceURL.absoluteString)
        }
        // The embedded org, with the incident of the runbook: a five-minute 503 storm, 5 % of
        // responses lost after Salesforce committed them, occasional proxy errors, a few row
        // locks, and every session expired in the middle of the storm. Each run is a new org,
        // with an id of its own, so a journal from an earlier run is refused rather than trusted.
        let (org, clock) = existing ?? {
            let clock = VirtualClock(mode: .autoAdvance)
            let id = "00DSIM" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(9).uppercased()
            let org = SalesforceSimulator(options: SimulatorOptions(organizationID: id), clock: clock)
            org.expireSessions(at: .origin + stormStart + .seconds(150))
            org.injectRowLockContention(count: 5)
            return (org, clock)
        }()
        let chaos = ChaosTransport(wrapping: org, clock: clock, seed: options.seed, faults: [
            .serviceUnavailable(from: clock.now.sinceOrigin + stormStart, for: stormLength),
            .lostResponses(probability: 0.05),
            .randomServerErrors(probability: 0.01),
        ])
        let transport = CountingTransport(inner: chaos, counters: counters)
        let provider = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .clientCredentials(clientID: "poster", clientSecret: "secret"),
                                          transport: transport, clock: clock, events: counters.sink)
        let client = try SalesforceClient(
            configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: transport,
            tokenProvider: provider, events: counters.sink, clock: clock, random: RandomSource(seed: options.seed))
        return PosterWiring(client: client, org: org, description: "the embedded simulator (seed \(options.seed): 503 storm, 5 % lost responses, session expiry)")
    }
}
