import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct OAuthTokenProviderTests {
    let login = URL(string: "https://login.salesforce.com")!

    struct FixedSigner: JWTSigner {
        func signRS256(_ message: Data) throws -> Data { Data("signature-of-\(message.count)".utf8) }
    }

    struct BrokenSigner: JWTSigner {
        struct KeyError: Error {}
        func signRS256(_ message: Data) throws -> Data { throw KeyError() }
    }

    @Test func refreshTokenGrantPostsTheForm() async throws {
        let transport = MockTransport(responses: [.success(tokenResponse("NEW"))])
        let provider = OAuthTokenProvider(loginURL: login, grant: .refreshToken(refreshToken: "R/1+2", clientID: "cid", clientSecret: "sec"), transport: transport, clock: VirtualClock())
        let token = try await provider.fetchToken()
        #expect(token.value == "NEW")
        #expect(token.instanceURL == URL(string: "https://acme.my.salesforce.com"))
        #expect(token.issuedAt == Date(timeIntervalSince1970: 1_767_225_600))
        #expect(token.scope == "api refresh_token")
        let request = try #require(transport.requests.first)
        #expect(request.method == .post)
        #expect(request.url.absoluteString == "https://login.salesforce.com/services/oauth2/token")
        #expect(request.headers["Content-Type"] == "application/x-www-form-urlencoded")
        #expect(request.formFields == ["grant_type": "refresh_token", "refresh_token": "R/1+2", "client_id": "cid", "client_secret": "sec"])
        #expect(request.bodyText.contains("R%2F1%2B2"))
    }

    @Test func clientCredentialsGrantPostsTheForm() async throws {
        let transport = MockTransport(responses: [.success(tokenResponse("NEW"))])
        let provider = OAuthTokenProvider(loginURL: testInstance, grant: .clientCredentials(clientID: "cid", clientSecret: "sec"), transport: transport, clock: VirtualClock())
        _ = try await provider.fetchToken()
        #expect(transport.requests.first?.formFields == ["grant_type": "client_credentials", "client_id": "cid", "client_secret": "sec"])
    }

    @Test func jwtBearerGrantSendsASignedAssertion() async throws {
        let transport = MockTransport(responses: [.success(tokenResponse("NEW"))])
        let clock = VirtualClock()
        let assertion = JWTBearerAssertion(consumerKey: "3MVG9", username: "integration@acme.com", signer: FixedSigner())
        let provider = OAuthTokenProvider(loginURL: login, grant: .jwtBearer(assertion), transport: transport, clock: clock)
        _ = try await provider.fetchToken()
        let fields = try #require(transport.requests.first?.formFields)
        #expect(fields["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer")
        let parts = try #require(fields["assertion"]).split(separator: ".").map(String.init)
        #expect(parts.count == 3)
        let header = try #require(Base64URL.decode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"RS256","typ":"JWT"}"#)
        let claimsData = try #require(Base64URL.decode(parts[1]))
        let claims = try #require(try JSONSerialization.jsonObject(with: claimsData) as? [String: Any])
        #expect(claims["iss"] as? String == "3MVG9")
        #expect(claims["sub"] as? String == "integration@acme.com")
        #expect(claims["aud"] as? String == "https://login.salesforce.com")
        let exp = try #require((claims["exp"] as? NSNumber)?.int64Value)
        #expect(exp == Int64(1_767_225_600 + 180))
        #expect(Base64URL.decode(parts[2]).map { String(decoding: $0, as: UTF8.self) } == "signature-of-\(parts[0].count + 1 + parts[1].count)")
    }

    @Test func aSignerFailureIsTyped() async throws {
        let assertion = JWTBearerAssertion(consumerKey: "k", username: "u", signer: BrokenSigner())
        let provider = OAuthTokenProvider(loginURL: login, grant: .jwtBearer(assertion), transport: MockTransport(), clock: VirtualClock())
        await #expect(throws: AuthenticationError.signingFailed("KeyError")) { try await provider.fetchToken() }
    }

    @Test func transientTokenEndpointFailuresAreRetried() async throws {
        let transport = MockTransport(responses: [.success(.status(503)), .success(tokenResponse("NEW"))])
        let provider = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: VirtualClock(mode: .autoAdvance))
        #expect(try await provider.fetchToken().value == "NEW")
        #expect(transport.requestCount == 2)
    }

    @Test(arguments: ["invalid_grant", "invalid_client"])
    func oauthErrorsAreNotRetried(code: String) async throws {
        let transport = MockTransport { _ in .json(400, #"{"error":"\#(code)","error_description":"nope"}"#) }
        let provider = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: VirtualClock(mode: .autoAdvance))
        let error = await #expect(throws: AuthenticationError.self) { try await provider.fetchToken() }
        #expect(error == .refused(TokenRefusal(code: code, detail: "nope", grant: "client_credentials")))
        #expect(OutcomeClassifier().classify(error!) == .authenticationFailed)
        #expect(error?.description.contains("\(code) (nope)") == true)
        #expect(transport.requestCount == 1)
    }

    @Test func aRotatedRefreshTokenIsReturnedAndAnUnrotatedOneKept() async throws {
        let transport = MockTransport { request in
            let body = String(decoding: request.body ?? Data(), as: UTF8.self)
            return body.contains("refresh_token=OLD")
                ? .json(200, #"{"access_token":"A1","refresh_token":"NEW","instance_url":"https://acme.my.salesforce.com"}"#)
                : .json(200, #"{"access_token":"A2","instance_url":"https://acme.my.salesforce.com"}"#)
        }
        let provider = OAuthTokenProvider(loginURL: login, grant: .refreshToken(refreshToken: "OLD", clientID: "c", clientSecret: nil), transport: transport, clock: VirtualClock())
        let rotated = try await provider.fetchToken()
        #expect(rotated.value == "A1" && rotated.refreshToken == "NEW")
        // Presenting the newest one (as the token store does); no rotation in the answer keeps it.
        let kept = try await provider.fetchToken(refreshToken: "NEW")
        #expect(kept.value == "A2" && kept.refreshToken == "NEW")
        #expect(String(decoding: transport.requests[1].body ?? Data(), as: UTF8.self).contains("refresh_token=NEW"))
        #expect(!String(describing: rotated).contains("NEW") && !String(reflecting: rotated).contains("NEW"))
        var dumped = ""
        dump(rotated, to: &dumped)
        #expect(!dumped.contains("NEW") && !dumped.contains("A1"))
    }

    @Test func theCredentialOwnerNamesTheGrantTheAppAndTheLoginHost() {
        let refresh = OAuthTokenProvider(loginURL: login, grant: .refreshToken(refreshToken: "SECRET", clientID: "app", clientSecret: "SHH"), transport: MockTransport())
        #expect(refresh.credentialOwner == "refresh_token app@login.salesforce.com")
        let credentials = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "app", clientSecret: "SHH"), transport: MockTransport())
        #expect(credentials.credentialOwner == "client_credentials app@login.salesforce.com")
        #expect(!refresh.credentialOwner.contains("SECRET") && !refresh.credentialOwner.contains("SHH"))
    }

    @Test func malformedTokenResponsesAreTyped() async throws {
        for body in ["<html>oops</html>", #"{"instance_url":"https://x"}"#, #"{"access_token":"T","instance_url":"not a url ::"}"#] {
            let transport = MockTransport(responses: [.success(.json(200, body))])
            let provider = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: VirtualClock())
            await #expect(throws: AuthenticationError.self) { try await provider.fetchToken() }
        }
    }

    @Test func insecureInstanceURLsAreRefused() async throws {
        let transport = MockTransport { _ in tokenResponse("T", instance: "http://evil.example.com") }
        let provider = OAuthTokenProvider(loginURL: login, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: VirtualClock())
        await #expect(throws: AuthenticationError.insecureInstanceURL("http://evil.example.com")) { try await provider.fetchToken() }
    }

    @Test func loopbackHTTPIsAcceptedOnlyWhenAllowed() throws {
        let loopback = URL(string: "http://127.0.0.1:8080")!
        #expect(throws: AuthenticationError.self) { try InstanceURLPolicy.validate(loopback, allowHTTPLoopback: false) }
        try InstanceURLPolicy.validate(loopback, allowHTTPLoopback: true)
        try InstanceURLPolicy.validate(URL(string: "http://localhost:1")!, allowHTTPLoopback: true)
        try InstanceURLPolicy.validate(URL(string: "http://[::1]:1")!, allowHTTPLoopback: true)
        #expect(throws: AuthenticationError.self) { try InstanceURLPolicy.validate(URL(string: "http://127.0.0.1.evil.com")!, allowHTTPLoopback: true) }
        #expect(throws: AuthenticationError.self) { try InstanceURLPolicy.validate(URL(string: "http://10.0.0.1")!, allowHTTPLoopback: true) }
        #expect(throws: AuthenticationError.self) { try InstanceURLPolicy.validate(URL(string: "ftp://acme.my.salesforce.com")!, allowHTTPLoopback: true) }
    }

    @Test func theClientRefusesAnInsecureConfiguredInstance() {
        #expect(throws: AuthenticationError.self) {
            try makeClient(MockTransport()) { $0.instanceURL = URL(string: "http://acme.my.salesforce.com")! }
        }
    }
}
