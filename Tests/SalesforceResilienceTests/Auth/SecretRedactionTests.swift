import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct SecretRedactionTests {
    @Test func tokensNeverAppearInDescriptionsEventsOrErrors() async throws {
        let secrets = ["ACCESSSECRET1", "ACCESSSECRET2", "REFRESHSECRET", "CLIENTSECRET"]
        let transport = MockTransport { request in
            if request.url.path.hasSuffix("oauth2/token") {
                return .json(200, #"{"access_token":"00D000000000001!ACCESSSECRET1","instance_url":"https://acme.my.salesforce.com"}"#)
            }
            // A broken proxy that echoes the request's credentials into an error page.
            return .json(500, #"{"access_token":"\#(request.headers["Authorization"] ?? "")","echo":"refresh_token=REFRESHSECRET&client_secret=CLIENTSECRET"}"#)
        }
        let recorder = EventRecorder()
        let clock = VirtualClock(mode: .autoAdvance)
        let provider = OAuthTokenProvider(
            loginURL: URL(string: "https://login.salesforce.com")!,
            grant: .refreshToken(refreshToken: "REFRESHSECRET", clientID: "cid", clientSecret: "CLIENTSECRET"),
            transport: transport, clock: clock)
        let client = try makeClient(transport, tokenProvider: provider, recorder: recorder, clock: clock) { $0.retryPolicy = RetryPolicy(maxAttempts: 2) }
        var texts: [String] = []
        do {
            _ = try await client.limits()
        } catch {
            texts.append(String(describing: error))
            texts.append(String(reflecting: error))
        }
        let token = try await client.tokens.token()
        texts.append(String(describing: token))
        texts.append(String(reflecting: token))
        var dumped = ""
        dump(token, to: &dumped)
        texts.append(dumped)
        texts += recorder.events.map { String(describing: $0) }
        texts += transport.requests.map { $0.description + "\n" + $0.headers.description }
        #expect(texts.count > 5)
        for text in texts {
            for secret in secrets { #expect(!text.contains(secret), "leaked \(secret) in: \(text)") }
        }
    }
}
