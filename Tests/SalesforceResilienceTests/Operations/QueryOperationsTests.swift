import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct SOQLTests {
    @Test func injectionAttemptsBecomeLiterals() {
        let input = "x' OR Name != '"
        let soql: SOQL = "SELECT Id FROM Payment__c WHERE Reference__c = \(input)"
        #expect(soql.text == #"SELECT Id FROM Payment__c WHERE Reference__c = 'x\' OR Name != \''"#)
    }

    @Test func everyDocumentedEscapeIsApplied() {
        let value = "a\\b'c\"d\ne\rf\tg\u{8}h\u{C}i"
        #expect(SOQL.quote(value) == #"'a\\b\'c\"d\ne\rf\tg\bh\fi'"#)
    }

    @Test func backslashBeforeAQuoteCannotEscapeTheClosingQuote() {
        let soql: SOQL = "SELECT Id FROM A WHERE Name = \("\\") AND Id != null"
        #expect(soql.text == #"SELECT Id FROM A WHERE Name = '\\' AND Id != null"#)
    }

    @Test func likePatternsEscapeWildcardsOnlyWhenAsked() {
        let soql: SOQL = "SELECT Id FROM A WHERE Name LIKE \(like: "50%_off") AND Code = \("50%_off")"
        #expect(soql.text == #"SELECT Id FROM A WHERE Name LIKE '50\%\_off' AND Code = '50%_off'"#)
    }

    @Test func numbersBooleansDatesAndListsHaveLiteralForms() {
        let date = Date(timeIntervalSince1970: 1_767_258_000)  // 2026-01-01T09:00:00Z
        let soql: SOQL = "SELECT Id FROM A WHERE N = \(42) AND D = \(1.5) AND B = \(true) AND T > \(date) AND R IN \(["a", "b'c"]) LIMIT \(10)"
        #expect(soql.text == #"SELECT Id FROM A WHERE N = 42 AND D = 1.5 AND B = true AND T > 2026-01-01T09:00:00Z AND R IN ('a', 'b\'c') LIMIT 10"#)
    }
}

@Suite struct QueryOperationsTests {
    struct Row: Decodable, Sendable, Equatable { var Name: String }

    func page(_ names: [String], next: String?) -> HTTPResponse {
        let records = names.map { #"{"attributes":{"type":"Account","url":"/x"},"Name":"\#($0)"}"# }.joined(separator: ",")
        let nextField = next.map { #","nextRecordsUrl":"\#($0)""# } ?? ""
        return .json(200, #"{"totalSize":5,"done":\#(next == nil)\#(nextField),"records":[\#(records)]}"#)
    }

    @Test func followsNextRecordsUrlAcrossPages() async throws {
        let transport = MockTransport(responses: [
            .success(page(["a", "b"], next: "/services/data/v62.0/query/01gD0000002HU6KIAW-2000")),
            .success(page(["c", "d"], next: "/services/data/v62.0/query/01gD0000002HU6KIAW-4000")),
            .success(page(["e"], next: nil)),
        ])
        let rows = try await makeClient(transport).query("SELECT Name FROM Account", as: Row.self).collect()
        #expect(rows.map(\.Name) == ["a", "b", "c", "d", "e"])
        #expect(transport.requests.map(\.url.absoluteString) == [
            "https://acme.my.salesforce.com/services/data/v62.0/query?q=SELECT%20Name%20FROM%20Account",
            "https://acme.my.salesforce.com/services/data/v62.0/query/01gD0000002HU6KIAW-2000",
            "https://acme.my.salesforce.com/services/data/v62.0/query/01gD0000002HU6KIAW-4000",
        ])
    }

    @Test func theQuerySentIsExactlyTheEscapedText() async throws {
        let transport = MockTransport(responses: [.success(page([], next: nil))])
        let input = "x' OR Name != '"
        _ = try await makeClient(transport).query("SELECT Name FROM Account WHERE Name = \(input)", as: Row.self).collect()
        let url = try #require(transport.requests.first?.url)
        let q = try #require(URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "q" }?.value)
        #expect(q == #"SELECT Name FROM Account WHERE Name = 'x\' OR Name != \''"#)
    }

    @Test func queryAllUsesItsEndpoint() async throws {
        let transport = MockTransport(responses: [.success(page(["a"], next: nil))])
        _ = try await makeClient(transport).queryAll("SELECT Name FROM Account", as: Row.self).collect()
        #expect(transport.requests.first?.url.path == "/services/data/v62.0/queryAll")
    }

    @Test func aNextRecordsUrlOutsideTheDataAPIIsNotFollowed() async throws {
        let transport = MockTransport(responses: [.success(page(["a"], next: "https://evil.example.com/steal"))])
        await #expect(throws: SalesforceClientError.self) { try await makeClient(transport).query("SELECT Name FROM Account", as: Row.self).collect() }
        #expect(transport.requestCount == 1)
    }

    @Test func malformedQueryIsACodeBugAndNotRetried() async throws {
        let transport = MockTransport { _ in .salesforceError(400, code: "MALFORMED_QUERY", message: "unexpected token: FORM") }
        let error = await #expect(throws: SalesforceError.self) { try await makeClient(transport).query("SELECT Name FORM Account", as: Row.self).collect() }
        #expect(error?.category == .clientError)
        #expect(transport.requestCount == 1)
    }

    @Test func aTransientFailureOnALaterPageIsRetried() async throws {
        let transport = MockTransport(responses: [
            .success(page(["a"], next: "/services/data/v62.0/query/01g-2000")),
            .success(.html(502)),
            .success(page(["b"], next: nil)),
        ])
        let rows = try await makeClient(transport).query("SELECT Name FROM Account", as: Row.self).collect()
        #expect(rows.map(\.Name) == ["a", "b"])
    }
}

@Suite struct LimitsTests {
    @Test func limitsAreDecodedAndOddEntriesSkipped() async throws {
        let body = #"{"DailyApiRequests":{"Max":15000,"Remaining":14975,"Ant Migration Tool":{"Max":0,"Remaining":0}},"DataStorageMB":{"Max":1024,"Remaining":1000},"Weird":5}"#
        let transport = MockTransport(responses: [.success(.json(200, body, headers: ["Sforce-Limit-Info": "api-usage=25/15000"]))])
        let client = try makeClient(transport)
        let limits = try await client.limits()
        #expect(limits.dailyAPIRequests == OrgLimit(max: 15_000, remaining: 14_975))
        #expect(limits.dailyAPIRequests?.used == 25)
        #expect(limits["DataStorageMB"]?.max == 1024)
        #expect(limits["Weird"] == nil)
        #expect(client.apiUsage == APIUsage(used: 25, max: 15_000))
    }

    @Test func usageIsReadFromFailedResponsesToo() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(400, code: "MALFORMED_QUERY", headers: ["Sforce-Limit-Info": "api-usage=99/100"]))])
        let client = try makeClient(transport)
        _ = try? await client.limits()
        #expect(client.apiUsage?.fraction == 0.99)
    }

    @Test func usageHeaderParsing() {
        #expect(APIUsage.parse("api-usage=18/5000") == APIUsage(used: 18, max: 5000))
        #expect(APIUsage.parse("per-app-api-usage=17/250(appName=sample-connected-app); api-usage=18/5000")
                == APIUsage(used: 18, max: 5000, perApp: .init(used: 17, max: 250, appName: "sample-connected-app")))
        #expect(APIUsage.parse("api-usage=110018/100000;api-bursts=1/750")?.fraction == 1.10018)
        #expect(APIUsage.parse("api-usage=abc/5000") == nil)
        #expect(APIUsage.parse("api-usage=-1/5000") == nil)
        #expect(APIUsage.parse("garbage") == nil)
        #expect(APIUsage.parse("api-bursts=1/750;\t api-usage=\t18 / 5000 ") == APIUsage(used: 18, max: 5000, bursts: .init(used: 1, max: 750)))  // spaces and tabs (OWS)
        #expect(APIUsage.parse("API-Usage=3/4") == APIUsage(used: 3, max: 4))  // names are case-insensitive
        #expect(APIUsage.parse("api-usage=99999999999999999999999/5000") == nil)  // overflow
        #expect(APIUsage.parse("api-usage=1/2/3") == nil)
        #expect(APIUsage.parse("api-usage-extra=1/2") == nil)
        #expect(APIUsage.parse("api-usage=0/0")?.fraction == 1)
    }
}
