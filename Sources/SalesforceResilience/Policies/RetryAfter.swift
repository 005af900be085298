import Foundation

/// Interprets a `Retry-After` header (RFC 9110 §10.2.3) as a wait, clamped to our own maximum.
public enum RetryAfter {
    /// The wait `value` asks for, between zero and `maximum`; `nil` if it is neither
    /// delta-seconds nor an HTTP-date (garbage, negative numbers, empty).
    ///
    /// - Parameters:
    ///   - value: the header value.
    ///   - now: the current calendar date, for HTTP-date values.
    ///   - maximum: the longest wait we accept; larger requests (`99999999999`) are clamped.
    public static func delay(from value: String, now: Date, maximum: Duration) -> Duration? {
        let trimmed = Substring(value.utf8.trimmingHTTPWhitespace)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            // Too many digits for Int64 is still a valid, enormous delay.
            guard let seconds = Int64(trimmed) else { return maximum }
            return min(.seconds(seconds), maximum)
        }
        guard let date = HTTPDate.parse(String(trimmed)) else { return nil }
        let interval = date.timeIntervalSince(now)
        guard interval > 0 else { return .zero }
        guard interval < maximum.seconds else { return maximum }
        return .milliseconds(Int64((interval * 1000).rounded(.up)))
    }
}
