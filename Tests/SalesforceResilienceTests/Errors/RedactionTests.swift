import Foundation
@testable import SalesforceResilience
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

@Suite struct EchoedSecretTests {
    static let session = "00D5g000004DBTq!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6LYUfiDUkWe6H34r1AAwOR8B8fLEz6n04NPGRrq0FM"

    @Test func aSessionIdEchoedInAnErrorMessageIsRedactedEverywhereTheErrorKeepsIt() throws {
        let body = #"[{"errorCode":"INVALID_FIELD","message":"No such column on session \#(Self.session)","fields":["X"]},{"errorCode":"OTHER","message":"again \#(Self.session)"}]"#
        let error = try #require(OutcomeClassifier().error(for: .json(400, body), operation: "upsert Payment__c"))
        var dumped = ""
        dump(error, to: &dumped)
        for (place, text) in [("message", error.message), ("errors", error.errors.map(\.message).joined()), ("body", String(decoding: error.body, as: UTF8.self)),
                              ("rawBody", error.rawBody), ("description", String(describing: error)), ("reflecting", String(reflecting: error)), ("dump", dumped)] {
            #expect(!text.contains("AQ0AQH0d"), "the session id survives in \(place)")
        }
        #expect(error.errorCode == "INVALID_FIELD" && error.fields == ["X"] && error.category == .clientError)
        #expect(error.message.hasPrefix("No such column on session"))
        #expect(OutcomeClassifier.parseErrors(error.body).count == 2, "the redacted body still parses")
    }

    @Test func anOrdinaryBodyIsKeptByteForByte() throws {
        let body = #"[{"errorCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION","message":"Amount must be positive","fields":["Amount__c"]}]"#
        let error = try #require(OutcomeClassifier().error(for: .json(400, body), operation: "upsert"))
        #expect(error.body == Data(body.utf8))
        #expect(!Redaction.mayHoldSecret(body))
        #expect(Redaction.mayHoldSecret("Authorization: BEARER x"))
    }

    @Test func dumpingHeadersShowsNoCredential() {
        var dumped = ""
        let headers: HTTPHeaders = ["Authorization": "Bearer SECRET", "Set-Cookie": "sid=SECRET2", "X-Other": "visible"]
        dump(headers, to: &dumped)
        #expect(!dumped.contains("SECRET") && dumped.contains("visible"))
    }

    @Test func htmlTitlesAreFoundInOnePassAndHostilePagesFindNothing() {
        #expect(OutcomeClassifier.htmlTitle(in: Data("<html><head><TITLE lang=en> 502 Bad Gateway </TITLE></head>".utf8)) == "502 Bad Gateway")
        #expect(OutcomeClassifier.htmlTitle(in: Data(String(repeating: "<title", count: 1_400).utf8)) == nil)
        #expect(OutcomeClassifier.htmlTitle(in: Data(("<title>" + String(repeating: "x", count: 300) + "</title>").utf8)) == nil)
        #expect(OutcomeClassifier.htmlTitle(in: Data("<title>".utf8)) == nil)
    }
}

/// The byte scanner against the regular expressions it replaced, on random mixtures of the
/// fragments secrets are made of: the same output every time.
@Suite struct SecretScannerTests {
    static func regexOracle(_ text: String) -> String {
        var result = text
        result.replace(/(?i)(bearer|oauth)\s+[A-Za-z0-9._~+\/!=-]+/) { match in "\(match.output.1) \(Redaction.placeholder)" }
        result.replace(/00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+/) { _ in Redaction.placeholder }
        result.replace(/("(?:access_token|refresh_token|client_secret|assertion|token|password|code)"\s*:\s*")[^"]*(")/) { match in
            "\(match.output.1)\(Redaction.placeholder)\(match.output.2)"
        }
        result.replace(/(^|[^A-Za-z_])((?:access_token|refresh_token|client_secret|assertion|token|password|code)=)[^&\s"]*/) { match in
            "\(match.output.1)\(match.output.2)\(Redaction.placeholder)"
        }
        return result
    }

    @Test func theScannerRedactsExactlyWhatTheExpressionsDid() {
        let fragments = ["Bearer", "bearer", "OAuth", "oauth", " ", "  ", "\t", "\n", "abc", "X.y-Z~+/!=", "00D", "5g000004DBTq", "123", "!", "AQ0.x_y",
                         "\"", "access_token", "token", "code", "password", "client_secret", "refresh_token", "assertion", ":", " : ", "=", "&",
                         "_", "x", "é", "{", "}", ",", "barcode", "sub_token"]
        let random = RandomSource(seed: 42)
        for _ in 0..<3_000 {
            let count = 1 + Int(random.next() % 12)
            let text = (0..<count).map { _ in fragments[Int(random.next() % UInt64(fragments.count))] }.joined()
            #expect(Redaction.redact(text) == Self.regexOracle(text), "\(text.debugDescription)")
        }
    }

    @Test func realisticSecretsAreRedacted() {
        for text in [
            "Authorization: Bearer 00D5g000004DBTq!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL",
            #"{"access_token" : "SECRET", "instance_url":"https://x"}"#,
            "grant_type=refresh_token&refresh_token=SECRET&client_secret=SECRET2",
            "session 00D5g000004DBTq!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL_QJWwYMfAbUeeG7c1E6 expired",
        ] {
            #expect(Redaction.redact(text) == Self.regexOracle(text))
            #expect(!Redaction.redact(text).contains("SECRET") && !Redaction.redact(text).contains("AQ0AQH0d"))
        }
    }
}
