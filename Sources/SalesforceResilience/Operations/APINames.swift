/// Checks of names that go into a URL path, so that no argument can change the request's shape.
enum APINames {
    /// Throws unless `name` is a Salesforce API name (`Payment__c`, `ns__Field__c`, `Account`).
    static func validate(_ name: String, role: String) throws {
        let valid = !name.isEmpty && name.utf8.count <= 255
            && name.utf8.first.map(isLetter) == true
            && name.utf8.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
        guard valid else {
            throw SalesforceClientError.invalidArgument("\(role) \"\(name)\" is not a Salesforce API name")
        }
    }

    /// Throws unless `id` looks like a 15- or 18-character record id.
    static func validateRecordID(_ id: String) throws {
        let valid = (id.utf8.count == 15 || id.utf8.count == 18)
            && id.utf8.allSatisfy { isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) }
        guard valid else { throw SalesforceClientError.invalidArgument("\"\(id)\" is not a Salesforce record id") }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }
}
