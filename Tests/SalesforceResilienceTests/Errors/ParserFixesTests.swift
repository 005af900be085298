import Foundation
@testable import SalesforceResilience
import Testing

/// Formats that went wrong at their edges (found by fuzzing), each fixed at its source.
@Suite struct ParserFixesTests {
    @Test(arguments: [",\u{301}", "\"\u{200D}", "a,\u{FE0F}b", "x\u{0301}\"y"])
    func aCommaOrQuoteJoinedToACombiningMarkIsStillQuoted(value: String) throws {
        let field = CSV.field(value)
        #expect(field.hasPrefix("\"") && field.hasSuffix("\""), "\(value.unicodeScalars.map { String($0.value, radix: 16) }) written bare")
        #expect(try CSV.parse(CSV.encode([[value, "next"]])) == [[value, "next"]])
    }

    @Test func httpDatesAlwaysHaveAFourDigitYear() {
        #expect(HTTPDate.format(Date(timeIntervalSince1970: -59_011_459_200)) == "Fri, 01 Jan 0100 00:00:00 GMT")
        #expect(HTTPDate.format(Date(timeIntervalSince1970: 0)) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.parse(HTTPDate.format(Date(timeIntervalSince1970: -59_011_459_200))) == Date(timeIntervalSince1970: -59_011_459_200))
        // Far outside any calendar in use: a value, not a trap.
        #expect(!HTTPDate.format(Date(timeIntervalSince1970: 1e300)).isEmpty)
        #expect(!HTTPDate.format(Date(timeIntervalSince1970: .nan)).isEmpty)
    }

    @Test func soqlDateTimeLiteralsHaveAFourDigitYearToo() {
        let soql: SOQL = "SELECT Id FROM Account WHERE CreatedDate > \(Date.distantPast)"
        #expect(soql.text.hasSuffix("CreatedDate > 0000-12-30T00:00:00Z") || soql.text.hasSuffix("CreatedDate > 0001-01-01T00:00:00Z"), "\(soql.text)")
        let recent: SOQL = "\(Date(timeIntervalSince1970: 1_767_225_600))"
        #expect(recent.text == "2026-01-01T00:00:00Z")
    }

    @Test func soqlTakesOptionalsAsNullAndListsOfEveryLiteralKind() {
        let missing: String? = nil
        let count: Int? = nil
        let amount: Double? = 12.5
        let soql: SOQL = "WHERE A = \(missing) AND B = \(count) AND C = \(amount) AND D IN \([1, 2, 3]) AND E IN \([1.5, 2.0]) AND F IN \([true, false]) AND G IN \([Date(timeIntervalSince1970: 0)])"
        #expect(soql.text == "WHERE A = null AND B = null AND C = 12.5 AND D IN (1, 2, 3) AND E IN (1.5, 2.0) AND F IN (true, false) AND G IN (1970-01-01T00:00:00Z)")
        let name: String? = "O'Brien"
        #expect(("\(name)" as SOQL).text == #"'O\'Brien'"#)
    }

    @Test func perAppUsageAndBurstsAreRead() throws {
        let usage = try #require(APIUsage.parse("api-usage=18/5000; per-app-api-usage=17/250(appName=sample-connected-app); api-bursts=1/750"))
        #expect(usage.used == 18 && usage.max == 5_000)
        #expect(usage.perApp == APIUsage.AppUsage(used: 17, max: 250, appName: "sample-connected-app"))
        #expect(usage.bursts == APIUsage.Bursts(used: 1, max: 750))
        let bare = try #require(APIUsage.parse("api-usage=110018/100000"))
        #expect(bare.perApp == nil && bare.bursts == nil && bare.fraction > 1)
        let odd = try #require(APIUsage.parse("api-usage=1/2; per-app-api-usage=garbage; api-bursts=/"))
        #expect(odd.perApp == nil && odd.bursts == nil, "a malformed extra item is left out, not fatal")
    }
}
