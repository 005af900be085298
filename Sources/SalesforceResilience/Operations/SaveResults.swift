/// Salesforce's answer to a create: `{"id", "success", "errors"}`.
public struct SaveResult: Sendable, Hashable, Decodable {
    /// The record id.
    public var id: String?
    /// Whether the save succeeded.
    public var success: Bool
    /// Errors, when it did not.
    public var errors: [SalesforceAPIError]

    /// Creates a result.
    public init(id: String?, success: Bool, errors: [SalesforceAPIError] = []) {
        self.id = id
        self.success = success
        self.errors = errors
    }

    private enum CodingKeys: String, CodingKey { case id, success, errors }

    /// Decodes the REST shape; a missing `errors` is empty.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        success = try container.decode(Bool.self, forKey: .success)
        errors = try container.decodeIfPresent([SalesforceAPIError].self, forKey: .errors) ?? []
    }
}

/// The outcome of an upsert by external id.
public struct UpsertResult: Sendable, Hashable {
    /// The record id; `nil` when Salesforce answered 204 without a body (older API versions).
    public var id: String?
    /// Whether the upsert created the record (201) rather than updating it (200/204).
    public var created: Bool

    /// Creates a result.
    public init(id: String?, created: Bool) {
        self.id = id
        self.created = created
    }
}
