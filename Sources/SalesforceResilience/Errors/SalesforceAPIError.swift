/// One entry of a Salesforce REST error body: `{"message", "errorCode", "fields"}`.
public struct SalesforceAPIError: Sendable, Hashable, Codable {
    /// The human-readable message.
    public var message: String
    /// The error code, such as `MALFORMED_QUERY`; the collections API calls it `statusCode`.
    public var errorCode: String
    /// The fields the error concerns; empty when absent.
    public var fields: [String]

    /// Creates an entry.
    public init(message: String, errorCode: String, fields: [String] = []) {
        self.message = message
        self.errorCode = errorCode
        self.fields = fields
    }

    private enum CodingKeys: String, CodingKey {
        case message, errorCode, statusCode, fields
        case error, errorDescription = "error_description"
    }

    /// Decodes the REST shape, the collections shape (`statusCode`) and the OAuth shape
    /// (`error`, `error_description`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let code = try container.decodeIfPresent(String.self, forKey: .errorCode)
            ?? container.decodeIfPresent(String.self, forKey: .statusCode)
            ?? container.decodeIfPresent(String.self, forKey: .error)
        guard let code else {
            throw DecodingError.keyNotFound(
                CodingKeys.errorCode, .init(codingPath: decoder.codingPath, debugDescription: "no error code"))
        }
        errorCode = code
        message = try container.decodeIfPresent(String.self, forKey: .message)
            ?? container.decodeIfPresent(String.self, forKey: .errorDescription) ?? ""
        fields = (try? container.decodeIfPresent([String].self, forKey: .fields)) ?? []
    }

    /// Encodes the REST shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message, forKey: .message)
        try container.encode(errorCode, forKey: .errorCode)
        try container.encode(fields, forKey: .fields)
    }
}
