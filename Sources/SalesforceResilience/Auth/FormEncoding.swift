import Foundation

/// `application/x-www-form-urlencoded` bodies, and percent-encoding of one URL path segment.
enum FormEncoding {
    /// RFC 3986 unreserved characters: the only ones never percent-encoded.
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// `value` with every character but the unreserved ones percent-encoded (UTF-8).
    static func percentEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// `name=value&…` with both sides percent-encoded.
    static func body(_ pairs: [(String, String)]) -> Data {
        Data(pairs.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&").utf8)
    }
}
