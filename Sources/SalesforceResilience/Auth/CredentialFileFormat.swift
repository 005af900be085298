import Foundation

extension FileCredentialStore {
    /// The record line's JSON.
    private struct Record: Codable {
        var owner: String
        var revision: UInt64
        /// Milliseconds since 1970.
        var storedAt: Int64
        var accessToken: String
        var instanceURL: String?
        var identityURL: String?
        /// Milliseconds since 1970.
        var issuedAt: Int64?
        var scope: String?
        var refreshToken: String?
    }

    private struct Header: Decodable {
        let format: String
        let version: Int
    }

    /// Whole milliseconds: what the file keeps of a time, so a credential reads back equal.
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func date(milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// The record line of `credential`, checksummed.
    static func encode(_ credential: StoredCredential) throws -> Data {
        let token = credential.token
        let record = Record(
            owner: credential.owner, revision: credential.revision, storedAt: milliseconds(credential.storedAt),
            accessToken: token.value, instanceURL: token.instanceURL?.absoluteString, identityURL: token.identityURL,
            issuedAt: token.issuedAt.map(milliseconds), scope: token.scope, refreshToken: token.refreshToken)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return ChecksummedLine.encode(try encoder.encode(record))
    }

    /// The credential in `data` (the file at `path`, named in errors); `nil` if it is empty.
    static func decode(_ data: Data, path: String) throws -> StoredCredential? {
        if data.isEmpty { return nil }
        let notOurs = CredentialStoreError(
            description: "\(path) is not a credential store (its first line is not our header); refusing to read or replace it")
        guard data.count <= maximumSize, let newline = data.firstIndex(of: 0x0A),
              let header = try? JSONDecoder().decode(Header.self, from: data[..<newline]), header.format == formatName
        else { throw notOurs }
        guard header.version <= 1 else {
            throw CredentialStoreError(description: "\(path) is a credential store of format version \(header.version), written by a newer version of this library")
        }
        let rest = data[(newline + 1)...]
        if rest.isEmpty { return nil }
        guard let end = rest.firstIndex(of: 0x0A), rest[(end + 1)...].isEmpty, let json = ChecksummedLine.decode(rest[..<end]),
              let record = try? JSONDecoder().decode(Record.self, from: Data(json))
        else {
            throw CredentialStoreError(
                description: "\(path): the credential record is corrupt (its checksum or JSON does not hold); refusing to use or replace it. Delete the file to authorise again.")
        }
        let token = AccessToken(
            value: record.accessToken, instanceURL: record.instanceURL.flatMap(URL.init(string:)),
            issuedAt: record.issuedAt.map { date(milliseconds: $0) }, scope: record.scope, identityURL: record.identityURL,
            refreshToken: record.refreshToken)
        return StoredCredential(token: token, owner: record.owner, revision: record.revision, storedAt: date(milliseconds: record.storedAt))
    }
}
