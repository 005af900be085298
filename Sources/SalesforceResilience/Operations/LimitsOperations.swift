extension SalesforceClient {
    /// The org's limits: `GET /limits`, such as `DailyApiRequests`.
    public func limits(priority: RequestContext.Priority = .normal) async throws -> OrgLimits {
        let url = try dataURL(["limits"])
        let context = RequestContext(operation: "limits", isIdempotent: true, priority: priority)
        return try await sendJSON(.get, url, context: context, as: OrgLimits.self)
    }
}

/// One limit: its maximum and what remains.
public struct OrgLimit: Sendable, Hashable {
    /// The maximum.
    public var max: Int
    /// What remains.
    public var remaining: Int

    /// Creates a limit.
    public init(max: Int, remaining: Int) {
        self.max = max
        self.remaining = remaining
    }

    /// `max - remaining`.
    public var used: Int { max - remaining }
}

/// The answer of `/limits`, by limit name. Entries without `Max` and `Remaining` are skipped.
public struct OrgLimits: Sendable, Hashable, Decodable {
    /// Every limit by name.
    public var all: [String: OrgLimit]

    /// Creates limits.
    public init(_ all: [String: OrgLimit]) { self.all = all }

    /// A limit by name.
    public subscript(name: String) -> OrgLimit? { all[name] }

    /// `DailyApiRequests`.
    public var dailyAPIRequests: OrgLimit? { all["DailyApiRequests"] }

    private struct Entry: Decodable {
        let limit: OrgLimit?
        private enum Keys: String, CodingKey { case Max, Remaining }
        init(from decoder: any Decoder) throws {
            let container = try? decoder.container(keyedBy: Keys.self)
            if let max = try? container?.decode(Int.self, forKey: .Max), let remaining = try? container?.decode(Int.self, forKey: .Remaining) {
                limit = OrgLimit(max: max, remaining: remaining)
            } else {
                limit = nil
            }
        }
    }

    /// Decodes the `/limits` object.
    public init(from decoder: any Decoder) throws {
        let entries = try [String: Entry](from: decoder)
        all = entries.compactMapValues(\.limit)
    }
}
