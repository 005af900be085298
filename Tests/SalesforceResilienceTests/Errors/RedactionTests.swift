import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct RedactionTests {
    @Test func bearerTokensAreRedacted() {
        #expect(Redaction.redact("Authorization: Bearer abc.DEF-123") == "Authorization: Bearer <redacted>")
    }

    @Test func salesforceSessionIdsAreRedacted() {
        let text = "token 00D5g000004DBTq!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6LYUfiDUkWe6H34r1AAwOR8B8fLEz6n04NPGRrq0FM is bad"
        #expect(!Redaction.redact(text).contains("AQ0AQH0d"))
    }

    @Test func jsonAndFormSecretsAreRedacted() {
        let json = #"{"access_token":"SECRET1","instance_url":"https://x","refresh_token": "SECRET2"}"#
        let redacted = Redaction.redact(json)
        #expect(!redacted.contains("SECRET1") && !redacted.contains("SECRET2"))
        #expect(redacted.contains("https://x"))
        let form = "grant_type=refresh_token&refresh_token=SECRET3&client_secret=SECRET4&client_id=abc"
        let redactedForm = Redaction.redact(form)
        #expect(!redactedForm.contains("SECRET3") && !redactedForm.contains("SECRET4"))
        #expect(redactedForm.contains("client_id=abc"))
    }

    @Test func errorCodesNamedLikeSecretsSurvive() {
        let body = #"[{"errorCode":"INVALID_SESSION_ID","message":"Session expired"}]"#
        #expect(Redaction.redact(body) == body)
    }

    @Test func headersDescriptionHidesAuthorization() {
        let headers: HTTPHeaders = ["Authorization": "Bearer SECRET", "Accept": "application/json"]
        #expect(!headers.description.contains("SECRET"))
        #expect(headers.description.contains("Accept: application/json"))
    }

    @Test func salesforceErrorNeverShowsATokenFromItsBody() throws {
        let response = HTTPResponse.json(500, #"{"access_token":"00D000000000001!TOKENVALUE","oops":true}"#)
        let error = try #require(OutcomeClassifier().error(for: response, operation: "token"))
        #expect(!error.rawBody.contains("TOKENVALUE"))
        #expect(!error.description.contains("TOKENVALUE"))
    }

    @Test func requestDescriptionRedactsQuerySecrets() throws {
        let url = try #require(URL(string: "https://login.example.com/services/oauth2/token?refresh_token=SECRET&x=1"))
        let request = HTTPRequest(method: .post, url: url)
        #expect(!request.description.contains("SECRET"))
        #expect(request.description.contains("x=1"))
    }
}
