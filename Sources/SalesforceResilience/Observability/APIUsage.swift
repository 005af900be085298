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
        for item in header.split(separator: ";") {
            let parts = item.trimmingHTTPWhitespace.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "api-usage" else { continue }
            let numbers = parts[1].split(separator: "/")
            guard numbers.count == 2, let used = Int(numbers[0].trimmingHTTPWhitespace),
                  let max = Int(numbers[1].trimmingHTTPWhitespace), used >= 0, max >= 0
            else { return nil }
            return APIUsage(used: used, max: max)
        }
        return nil
    }
}
