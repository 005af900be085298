import Foundation
import SalesforceResilience
import Testing

@Suite struct RetryAfterTests {
    let now = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
    let cap = Duration.seconds(120)

    @Test func deltaSeconds() {
        #expect(RetryAfter.delay(from: "5", now: now, maximum: cap) == .seconds(5))
        #expect(RetryAfter.delay(from: " 0 ", now: now, maximum: cap) == .zero)
        #expect(RetryAfter.delay(from: "\t7\t", now: now, maximum: cap) == .seconds(7))
    }

    @Test func httpDateInTheFuture() {
        #expect(RetryAfter.delay(from: "Sun, 06 Nov 1994 08:50:07 GMT", now: now, maximum: cap) == .seconds(30))
    }

    @Test func obsoleteDateFormsAreAccepted() {
        #expect(RetryAfter.delay(from: "Sunday, 06-Nov-94 08:49:47 GMT", now: now, maximum: cap) == .seconds(10))
        #expect(RetryAfter.delay(from: "Sun Nov  6 08:49:57 1994", now: now, maximum: cap) == .seconds(20))
    }

    @Test func dateInThePastMeansNoWait() {
        #expect(RetryAfter.delay(from: "Sun, 06 Nov 1994 08:00:00 GMT", now: now, maximum: cap) == .zero)
    }

    @Test(arguments: ["-5", "abc", "", "5s", "1.5", "Sun, 32 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT"])
    func garbageIsIgnored(value: String) {
        #expect(RetryAfter.delay(from: value, now: now, maximum: cap) == nil)
    }

    @Test func enormousValuesAreClamped() {
        #expect(RetryAfter.delay(from: "86400", now: now, maximum: cap) == cap)
        #expect(RetryAfter.delay(from: "99999999999999999999999999", now: now, maximum: cap) == cap)
        #expect(RetryAfter.delay(from: "Fri, 31 Dec 9999 23:59:59 GMT", now: now, maximum: cap) == cap)
    }

    @Test func httpDateRoundTrips() throws {
        #expect(HTTPDate.format(now) == "Sun, 06 Nov 1994 08:49:37 GMT")
        let later = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        #expect(HTTPDate.format(later) == "Thu, 01 Jan 2026 00:00:00 GMT")
        #expect(HTTPDate.parse(HTTPDate.format(later)) == later)
        let leap = try #require(HTTPDate.parse("Thu, 29 Feb 2024 12:00:00 GMT"))
        #expect(HTTPDate.format(leap) == "Thu, 29 Feb 2024 12:00:00 GMT")
    }
}
