import Foundation

/// The org's API usage from a `Sforce-Limit-Info` header:
/// `api-usage=USED/MAX[; per-app-api-usage=USED/MAX(appName=NAME)][; api-bursts=USED/MAX]`.
///
/// The figure is org-wide, so every worker sees the same one. `used` may exceed `max` during
/// an API burst; that is reported as it is, not rejected.
public struct APIUsage: Sendable, Hashable, CustomStringConvertible {
    /// One connected app's share, from `per-app-api-usage=17/250(appName=sample-connected-app)`.
    public struct AppUsage: Sendable, Hashable {
        /// Requests the app used.
        public var used: Int
        /// The app's own allowance.
        public var max: Int
        /// The connected app's name, if the header gave one.
        public var appName: String?

        /// Creates an app's figure.
        public init(used: Int, max: Int, appName: String? = nil) {
            self.used = used
            self.max = max
            self.appName = appName
        }
    }

    /// API bursts used and allowed, from `api-bursts=1/750`.
    public struct Bursts: Sendable, Hashable {
        /// Bursts used.
        public var used: Int
        /// Bursts allowed.
        public var max: Int

        /// Creates a burst figure.
        public init(used: Int, max: Int) {
            self.used = used
            self.max = max
        }
    }

    /// Requests used in the rolling 24-hour window.
    public var used: Int
    /// The org's allowance.
    public var max: Int
    /// This connected app's usage, when the org limits it per app.
    public var perApp: AppUsage?
    /// API bursts used and allowed, when the org reports them.
    public var bursts: Bursts?

    /// Creates a usage figure.
    public init(used: Int, max: Int, perApp: AppUsage? = nil, bursts: Bursts? = nil) {
        self.used = used
        self.max = max
        self.perApp = perApp
        self.bursts = bursts
    }

    /// `used / max` (above 1 during a burst); 1 when `max` is 0.
    public var fraction: Double { max > 0 ? Double(used) / Double(max) : 1 }

    /// `api-usage=used/max`.
    public var description: String { "api-usage=\(used)/\(max)" }

    /// A `Sforce-Limit-Info` value read: `nil` if it has no well-formed `api-usage` item. A
    /// malformed `per-app-api-usage` or `api-bursts` item is left out, not fatal; unknown items
    /// are ignored.
    public static func parse(_ header: String) -> APIUsage? {
        // Parsed on every response, so on the bytes in place: no arrays, no substrings.
        var header = header
        return header.withUTF8 { parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> APIUsage? {
        var usage: (used: Int, max: Int)?
        var perApp: AppUsage?
        var bursts: Bursts?
        var itemStart = 0
        while itemStart <= bytes.count {
            let itemEnd = bytes[itemStart...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            defer { itemStart = itemEnd + 1 }
            let trimmed = bytes[itemStart..<itemEnd].trimmingHTTPWhitespace
            guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = trimmed[..<equals]
            var value = trimmed[trimmed.index(after: equals)...]
            if name.equalsIgnoringASCIICase("api-usage") {
                guard let figure = fraction(value) else { return nil }
                usage = figure
            } else if name.equalsIgnoringASCIICase("api-bursts") {
                bursts = fraction(value).map { Bursts(used: $0.0, max: $0.1) }
            } else if name.equalsIgnoringASCIICase("per-app-api-usage") {
                // 17/250(appName=sample-connected-app)
                var appName: String?
                if let open = value.firstIndex(of: UInt8(ascii: "(")), value.last == UInt8(ascii: ")") {
                    let inside = value[value.index(after: open)..<value.index(before: value.endIndex)]
                    if let inner = inside.firstIndex(of: UInt8(ascii: "=")), inside[..<inner].trimmingHTTPWhitespace.equalsIgnoringASCIICase("appname") {
                        appName = String(decoding: inside[inside.index(after: inner)...].trimmingHTTPWhitespace, as: UTF8.self)
                    }
                    value = value[..<open]
                }
                perApp = fraction(value).map { AppUsage(used: $0.0, max: $0.1, appName: appName) }
            }
        }
        guard let usage else { return nil }
        return APIUsage(used: usage.used, max: usage.max, perApp: perApp, bursts: bursts)
    }

    private static func fraction(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> (Int, Int)? {
        guard let slash = text.firstIndex(of: UInt8(ascii: "/")),
              let used = text[..<slash].trimmingHTTPWhitespace.nonNegativeDecimal,
              let max = text[text.index(after: slash)...].trimmingHTTPWhitespace.nonNegativeDecimal
        else { return nil }
        return (used, max)
    }
}
