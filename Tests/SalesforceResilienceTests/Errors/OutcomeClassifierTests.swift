import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct OutcomeClassifierTests {
    let classifier = OutcomeClassifier()

    @Test(arguments: [500, 502, 503, 504, 408])
    func serverErrorStatusesAreTransient(status: Int) {
        #expect(classifier.classify(.status(status)) == .transientServer)
    }

    @Test func serverUnavailableCodeIsTransientWhateverTheStatus() {
        #expect(classifier.classify(.salesforceError(503, code: "SERVER_UNAVAILABLE")) == .transientServer)
        #expect(classifier.classify(.salesforceError(400, code: "SERVER_UNAVAILABLE")) == .transientServer)
    }

    @Test func status429IsThrottled() {
        #expect(classifier.classify(.status(429, retryAfter: "3")) == .throttled)
    }

    @Test func invalidSessionIdIsSessionExpired() {
        #expect(classifier.classify(.salesforceError(401, code: "INVALID_SESSION_ID", message: "Session expired or invalid")) == .sessionExpired)
        #expect(classifier.classify(.status(401)) == .sessionExpired)
    }

    @Test func dailyLimitIsApiLimitExceeded() {
        let response = HTTPResponse.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.")
        #expect(classifier.classify(response) == .apiLimitExceeded)
        #expect(FailureCategory.apiLimitExceeded.isRetryable(idempotent: true) == false)
    }

    @Test func aDailyLimitMessageInAnyCaseStillStopsForTheDay() {
        let response = HTTPResponse.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: "totalrequests limit exceeded")
        #expect(classifier.classify(response) == .apiLimitExceeded)
    }

    @Test(arguments: ["ConcurrentPerOrgLongTxn Limit exceeded", "ConcurrentRequests Limit exceeded", "Too many requests", ""])
    func otherRequestLimitMessagesAreALongerThrottleNotADailyStop(message: String) {
        let response = HTTPResponse.salesforceError(403, code: "REQUEST_LIMIT_EXCEEDED", message: message)
        #expect(classifier.classify(response) == .requestLimited)
        #expect(FailureCategory.requestLimited.isRetryable(idempotent: true))
        #expect(FailureCategory.requestLimited.action == .slowDown)
        #expect(FailureCategory.requestLimited.countsAsBreakerFailure == false)
    }

    @Test func a429IsThrottlingWhateverItsBodySays() {
        // Seen from a gateway: 429 with REQUEST_LIMIT_EXCEEDED. It is not the daily allowance.
        let response = HTTPResponse.salesforceError(429, code: "REQUEST_LIMIT_EXCEEDED", message: "Too many requests", headers: ["Retry-After": "1"])
        #expect(classifier.classify(response) == .throttled)
        #expect(classifier.classify(.salesforceError(429, code: "REQUEST_LIMIT_EXCEEDED", message: "TotalRequests Limit exceeded.")) == .throttled)
    }

    @Test(arguments: [400, 409, 500])
    func rowLockIsMatchedByCodeNotStatus(status: Int) {
        #expect(classifier.classify(.salesforceError(status, code: "UNABLE_TO_LOCK_ROW")) == .rowLockContention)
    }

    @Test(arguments: ["MALFORMED_QUERY", "INVALID_FIELD", "INVALID_TYPE", "JSON_PARSER_ERROR", "REQUIRED_FIELD_MISSING",
                      "FIELD_CUSTOM_VALIDATION_EXCEPTION", "DUPLICATE_VALUE"])
    func codeAndDataBugsAreClientErrors(code: String) {
        #expect(classifier.classify(.salesforceError(400, code: code)) == .clientError)
        #expect(FailureCategory.clientError.isRetryable(idempotent: true) == false)
        #expect(FailureCategory.clientError.action == .fixTheCode)
    }

    @Test func notFoundAndMultipleChoicesAreClientErrors() {
        #expect(classifier.classify(.salesforceError(404, code: "NOT_FOUND")) == .clientError)
        #expect(classifier.classify(.json(300, #"["/services/data/v62.0/sobjects/A/1","/services/data/v62.0/sobjects/A/2"]"#)) == .clientError)
    }

    @Test func oauthErrorsAreAuthenticationFailures() {
        let response = HTTPResponse.json(400, #"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#)
        let error = classifier.error(for: response, operation: "token")
        #expect(error?.category == .authenticationFailed)
        #expect(error?.errorCode == "invalid_grant")
        #expect(error?.message == "expired access/refresh token")
        #expect(error?.action == .reauthenticate)
    }

    @Test func unknownCodeFallsBackToTheStatus() {
        #expect(classifier.classify(.salesforceError(400, code: "SOMETHING_NEW")) == .clientError)
        #expect(classifier.classify(.salesforceError(503, code: "SOMETHING_NEW")) == .transientServer)
        #expect(classifier.classify(.status(600)) == .unknown)
    }

    @Test func overridesWinOverTheBuiltInTable() {
        let custom = OutcomeClassifier(overrides: ["MY_TRIGGER_BUSY": .rowLockContention, "MALFORMED_QUERY": .transientServer])
        #expect(custom.classify(.salesforceError(400, code: "MY_TRIGGER_BUSY")) == .rowLockContention)
        #expect(custom.classify(.salesforceError(400, code: "MALFORMED_QUERY")) == .transientServer)
    }

    @Test func successIsNotAFailure() {
        #expect(classifier.classify(.json(200, "{}")) == nil)
        #expect(classifier.classify(.status(204)) == nil)
        #expect(classifier.error(for: .status(201), operation: "x") == nil)
    }

    @Test func errorKeepsStatusCodeMessageFieldsAndEveryEntry() throws {
        let body = #"[{"message":"No such column 'Foo__c'","errorCode":"INVALID_FIELD","fields":["Foo__c"]},{"message":"second","errorCode":"MALFORMED_QUERY"}]"#
        let error = try #require(classifier.error(for: .json(400, body), operation: "query Account"))
        #expect(error.status == 400)
        #expect(error.errorCode == "INVALID_FIELD")
        #expect(error.message == "No such column 'Foo__c'")
        #expect(error.fields == ["Foo__c"])
        #expect(error.errors.map(\.errorCode) == ["INVALID_FIELD", "MALFORMED_QUERY"])
        #expect(error.errors[1].fields == [])
        #expect(error.operation == "query Account")
        #expect(error.description.contains("INVALID_FIELD"))
    }

    @Test func htmlProxyPageIsClassifiedByStatusAndSummarised() throws {
        let error = try #require(classifier.error(for: .html(502, title: "502 Bad Gateway"), operation: "get"))
        #expect(error.category == .transientServer)
        #expect(error.errorCode == nil)
        #expect(error.message.contains("502 Bad Gateway"))
        #expect(error.message.contains("text/html"))
        #expect(error.rawBody.contains("<html>"))
    }

    @Test func emptyBodyIsClassifiedByStatus() throws {
        let error = try #require(classifier.error(for: .status(503), operation: "get"))
        #expect(error.category == .transientServer)
        #expect(error.message == "HTTP 503 with an empty body")
    }

    @Test func truncatedJsonIsClassifiedByStatus() throws {
        let body = #"[{"message":"Session expired","errorCode":"INVALID_SESS"#
        let error = try #require(classifier.error(for: .json(500, body), operation: "get"))
        #expect(error.category == .transientServer)
        #expect(error.errors.isEmpty)
        #expect(error.rawBody == body)
    }

    @Test func invalidUtf8BodyDoesNotCrashAndIsKeptLossily() throws {
        let response = HTTPResponse(status: 502, body: Data([0xFF, 0xFE, 0x41, 0xC3]))
        let error = try #require(classifier.error(for: response, operation: "get"))
        #expect(error.category == .transientServer)
        #expect(error.rawBody.contains("A"))
    }

    @Test func enormousBodyIsTruncatedInRawBodyButKeptWhole() throws {
        let big = Data(repeating: UInt8(ascii: "x"), count: 1_000_000)
        let error = try #require(classifier.error(for: HTTPResponse(status: 500, body: big), operation: "get"))
        #expect(error.rawBody.utf8.count < SalesforceError.rawBodyLimit + 64)
        #expect(error.rawBody.hasSuffix("(1000000 bytes)"))
        #expect(error.body.count == 1_000_000)
    }

    @Test func jsonOfAnotherShapeIsNotAnError() {
        #expect(OutcomeClassifier.parseErrors(Data(#"{"hello":"world"}"#.utf8)).isEmpty)
        #expect(OutcomeClassifier.parseErrors(Data("[1,2,3]".utf8)).isEmpty)
        #expect(OutcomeClassifier.parseErrors(Data("null".utf8)).isEmpty)
    }

    @Test func collectionsStyleStatusCodeKeyIsRead() {
        let errors = OutcomeClassifier.parseErrors(Data(#"[{"statusCode":"DUPLICATE_VALUE","message":"dup","fields":["Ref__c"]}]"#.utf8))
        #expect(errors == [SalesforceAPIError(message: "dup", errorCode: "DUPLICATE_VALUE", fields: ["Ref__c"])])
    }

    @Test func transportErrorsSplitByDelivery() {
        #expect(classifier.classify(TransportError.notSent(.connectionRefused, "refused")) == .transientNetwork)
        #expect(classifier.classify(TransportError.ambiguous(.timedOut, "timeout")) == .ambiguousNetwork)
        #expect(FailureCategory.transientNetwork.isRetryable(idempotent: false))
        #expect(FailureCategory.ambiguousNetwork.isRetryable(idempotent: false) == false)
        #expect(FailureCategory.ambiguousNetwork.isRetryable(idempotent: true))
    }

    @Test func otherThrownErrorsHaveTheirOwnCategories() {
        #expect(classifier.classify(CircuitOpenError(key: "h", retryAt: nil, operation: "o")) == .circuitOpen)
        #expect(classifier.classify(DeadlineExceededError(operation: "o", deadline: .origin)) == .deadlineExceeded)
        #expect(classifier.classify(CancellationError()) == .cancelled)
        #expect(classifier.classify(URLError(.cannotConnectToHost)) == .transientNetwork)
        #expect(classifier.classify(URLError(.timedOut)) == .ambiguousNetwork)
        struct Odd: Error {}
        #expect(classifier.classify(Odd()) == .unknown)
    }

    @Test func breakerCountsOnlyServerHealthFailures() {
        let counted = FailureCategory.allCases.filter(\.countsAsBreakerFailure)
        #expect(Set(counted) == [.transientServer, .transientNetwork, .ambiguousNetwork])  // a 429 is answered by the adaptive throttle
    }

    @Test func everyCategoryMapsToARunbookAction() {
        #expect(FailureCategory.transientServer.action == .retry)
        #expect(FailureCategory.rowLockContention.action == .retry)
        #expect(FailureCategory.throttled.action == .slowDown)
        #expect(FailureCategory.apiLimitExceeded.action == .slowDown)
        #expect(FailureCategory.sessionExpired.action == .reauthenticate)
        #expect(FailureCategory.circuitOpen.action == .fallBack)
        #expect(FailureCategory.unknown.action == .fixTheCode)
    }
}
