import Foundation

/// A `Retry-After` header (RFC 9110 §10.2.3), parsed once: delta-seconds or an HTTP-date.
///
/// ``SalesforceError/retryAfter`` holds it for a failed response, so the retry and the breaker
/// read the same value without parsing the header again.
public enum RetryAfter: Sendable, Hashable {
    /// Wait this many seconds (`Int64.max` for more digits than fit: still a valid, enormous wait).
    case seconds(Int64)
    /// Wait until this date.
    case date(Date)

    /// The header's value; `nil` if it is neither delta-seconds nor an HTTP-date (garbage,
    /// negative numbers, empty).
    public init?(_ value: String) {
        let trimmed = Substring(value.utf8.trimmingHTTPWhitespace)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            self = .seconds(Int64(trimmed) ?? .max)
            return
        }
        guard let date = HTTPDate.parse(String(trimmed)) else { return nil }
        self = .date(date)
    }

    /// The wait, between zero and `maximum`.
    ///
    /// - Parameters:
    ///   - now: the current calendar date, for HTTP-date values.
    ///   - maximum: the longest wait we accept; larger requests (`99999999999`) are clamped.
    public func delay(now: Date, maximum: Duration) -> Duration {
        switch self {
        case .seconds(let seconds):
            return min(.seconds(seconds), maximum)
        case .date(let date):
            let interval = date.timeIntervalSince(now)
            guard interval > 0 else { return .zero }
            guard interval < maximum.seconds else { return maximum }
            return .milliseconds(Int64((interval * 1000).rounded(.up)))
        }
    }

    /// The wait `value` asks for, between zero and `maximum`; `nil` if it is neither
    /// delta-seconds nor an HTTP-date.
    public static func delay(from value: String, now: Date, maximum: Duration) -> Duration? {
        RetryAfter(value)?.delay(now: now, maximum: maximum)
    }
}
