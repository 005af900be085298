import Foundation

extension SalesforceClient {
    /// Creates a record: `POST /sobjects/{type}`.
    ///
    /// Not idempotent: after an ambiguous failure (timeout after sending) it is not retried,
    /// because it may have created the record. Prefer ``upsert(_:externalIdField:value:fields:priority:)``.
    public func create<Fields: Encodable>(_ type: String, fields: Fields, priority: RequestContext.Priority = .normal) async throws -> SaveResult {
        try APINames.validate(type, role: "sObject type")
        let operation = "create \(type)"
        let url = try dataURL(["sobjects", type])
        let context = RequestContext(operation: operation, isIdempotent: false, priority: priority)
        return try await sendJSON(.post, url, body: encode(fields, operation: operation), context: context, as: SaveResult.self)
    }

    /// Reads a record: `GET /sobjects/{type}/{id}[?fields=…]`.
    public func get<Record: Decodable>(
        _ type: String, id: String, fields: [String]? = nil, as recordType: Record.Type = Record.self, priority: RequestContext.Priority = .normal
    ) async throws -> Record {
        try APINames.validate(type, role: "sObject type")
        try APINames.validateRecordID(id)
        var query: String?
        if let fields {
            for field in fields { try APINames.validate(field, role: "field") }
            query = "fields=" + fields.joined(separator: ",")
        }
        let url = try dataURL(["sobjects", type, id], query: query)
        let context = RequestContext(operation: "get \(type)", isIdempotent: true, priority: priority)
        return try await sendJSON(.get, url, context: context, as: recordType)
    }

    /// Updates fields of a record by id: `PATCH /sobjects/{type}/{id}` → 204.
    ///
    /// Idempotent: setting the same fields twice leaves the same record.
    public func update<Fields: Encodable>(_ type: String, id: String, fields: Fields, priority: RequestContext.Priority = .normal) async throws {
        try APINames.validate(type, role: "sObject type")
        try APINames.validateRecordID(id)
        let operation = "update \(type)"
        let url = try dataURL(["sobjects", type, id])
        let context = RequestContext(operation: operation, isIdempotent: true, priority: priority)
        _ = try await send(jsonRequest(.patch, url, body: encode(fields, operation: operation)), context: context)
    }

    /// Deletes a record: `DELETE /sobjects/{type}/{id}` → 204.
    public func delete(_ type: String, id: String, priority: RequestContext.Priority = .normal) async throws {
        try APINames.validate(type, role: "sObject type")
        try APINames.validateRecordID(id)
        let url = try dataURL(["sobjects", type, id])
        let context = RequestContext(operation: "delete \(type)", isIdempotent: true, priority: priority)
        _ = try await send(jsonRequest(.delete, url, body: nil), context: context)
    }

    /// Creates or updates the record whose external id field has `value`:
    /// `PATCH /sobjects/{type}/{externalIdField}/{value}`.
    ///
    /// Idempotent, so it is retried even after an ambiguous failure: sending it twice leaves
    /// one record. `value` is percent-encoded as a single path segment, so `/`, `?`, `#`, `%`
    /// and spaces cannot change the URL. Leave the external id field out of `fields`.
    ///
    /// - Returns: the id and whether the record was created (201) or updated (200 or 204).
    /// - Throws: ``SalesforceClientError/multipleMatches(operation:recordURLs:)`` when the value
    ///   matches several records (HTTP 300), ``SalesforceError`` for other failures.
    public func upsert<Fields: Encodable>(
        _ type: String, externalIdField: String, value: String, fields: Fields, priority: RequestContext.Priority = .normal
    ) async throws -> UpsertResult {
        try APINames.validate(type, role: "sObject type")
        try APINames.validate(externalIdField, role: "external id field")
        guard !value.isEmpty else { throw SalesforceClientError.invalidArgument("upsert \(type): empty external id value") }
        // "." and ".." are dot-segments: servers and proxies remove them from a path, so the
        // request would name another resource. In a collections body they travel intact.
        guard !value.allSatisfy({ $0 == "." }) else {
            throw SalesforceClientError.invalidArgument(
                "upsert \(type): the external id \"\(value)\" is only dots, which a URL path cannot carry; upsert it with upsertCollection, which sends it in the body")
        }
        let operation = "upsert \(type)"
        let url = try dataURL(["sobjects", type, externalIdField, FormEncoding.percentEncode(value)])
        let context = RequestContext(operation: operation, isIdempotent: true, priority: priority)
        let response: HTTPResponse
        do {
            response = try await send(jsonRequest(.patch, url, body: encode(fields, operation: operation)), context: context)
        } catch let error as SalesforceError where error.status == 300 {
            let urls = (try? JSONDecoder().decode([String].self, from: error.body)) ?? []
            throw SalesforceClientError.multipleMatches(operation: operation, recordURLs: urls)
        }
        if response.status == 204 || response.body.isEmpty {
            return UpsertResult(id: nil, created: response.status == 201)
        }
        let body = try decode(UpsertBody.self, from: response.body, operation: operation)
        return UpsertResult(id: body.id, created: body.created ?? (response.status == 201))
    }
}

/// The body of a 200 or 201 upsert answer.
private struct UpsertBody: Decodable {
    let id: String?
    let created: Bool?
}
