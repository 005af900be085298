import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

/// The client PaymentPoster uses: on the simulator with chaos, or on a real org.
struct PosterWiring {
    let client: SalesforceClient
    let org: SalesforceSimulator?
    let description: String
}

extension PaymentPoster {
    static func makeWiring(_ options: PosterOptions, environment: [String: String], existing: (SalesforceSimulator, VirtualClock)?,
                           counters: PosterCounters) throws -> PosterWiring {
        if let instanceURL = options.instanceURL {
            let transport = CountingTransport(inner: URLSessionTransport(), counters: counters)
            let provider: any TokenProvider
            if let token = environment["SF_ACCESS_TOKEN"], !token.isEmpty {
                provider = StaticTokenProvider(accessToken: token)
            } else if let id = environment["SF_CLIENT_ID"], let secret = environment["SF_CLIENT_SECRET"] {
                provider = OAuthTokenProvider(loginURL: instanceURL, grant: .clientCredentials(clientID: id, clientSecret: secret),
                                              transport: transport, allowHTTPLoopback: options.allowHTTPLoopback, events: counters.sink)
            } else {
                throw PosterOptions.UsageError(description: "--instance-url needs SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET")
            }
            let configuration = SalesforceConfiguration(instanceURL: instanceURL, allowHTTPLoopback: options.allowHTTPLoopback)
            let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider, events: counters.sink)
            return PosterWiring(client: client, org: nil, description: instanceURL.absoluteString)
        }
        // The embedded org, with the incident of the runbook: a five-minute 503 storm, 5 % of
        // responses lost after Salesforce committed them, occasional proxy errors, a few row
        // locks, and every session expired in the middle of the storm.
        let (org, clock) = existing ?? {
            let clock = VirtualClock(mode: .autoAdvance)
            let org = SalesforceSimulator(clock: clock)
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
