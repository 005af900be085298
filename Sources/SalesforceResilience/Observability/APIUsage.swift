import Foundation

/// The org's API usage from a `Sforce-Limit-Info` header: `api-usage=USED/MAX`.
///
/// The figure is org-wide, so every worker sees the same one. `used` may exceed `max` during
/// an API burst; that is reported as it is, not rejected.
public struct APIUsage: Sendable, Hashable, CustomStringConvertible {
    /// Requests used in the rolling 24-hour window.
    public var used: Int
    /// The org's allowance.
    public var max: Int

    /// Creates a usage figure.
    public init(used: Int, max: Int) {
        self.used = used
        self.max = max
    }

    /// `used / max` (above 1 during a burst); 1 when `max` is 0.
    public var fraction: Double { max > 0 ? Double(used) / Double(max) : 1 }

    /// `api-usage=used/max`.
    public var description: String { "api-usage=\(used)/\(max)" }

    /// The `api-usage` item of a `Sforce-Limit-Info` value, ignoring other items
    /// (`per-app-api-usage=…`, `api-bursts=…`); `nil` if absent or malformed.
    public static func parse(_ header: String) -> APIUsage? {
        // Parsed on every response, so on bytes.
        for item in header.utf8.split(separator: UInt8(ascii: ";")) {
            let trimmed = item.trimmingHTTPWhitespace
            guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")),
                  trimmed[..<equals].equalsIgnoringASCIICase("api-usage")
            else { continue }
            let numbers = trimmed[trimmed.index(after: equals)...].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            guard numbers.count == 2, let used = numbers[0].trimmingHTTPWhitespace.nonNegativeDecimal,
                  let max = numbers[1].trimmingHTTPWhitespace.nonNegativeDecimal
            else { return nil }
            return APIUsage(used: used, max: max)
        }
        return nil
    }
}
