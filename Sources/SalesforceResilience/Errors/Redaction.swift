import Foundation

/// Removes credentials from text before it reaches an error, an event or a log line.
public enum Redaction {
    /// What a secret is replaced with.
    public static let placeholder = "<redacted>"

    private static let sensitiveHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// Whether a header of this name carries credentials.
    public static func isSensitiveHeader(_ name: String) -> Bool {
        sensitiveHeaders.contains(name.lowercased())
    }

    /// `text` with bearer tokens, Salesforce session ids and secret JSON or form values replaced.
    ///
    /// Text that holds none of the markers these secrets need (`!` of a session id, `bearer`,
    /// `oauth`, `token`, `secret`, `assertion`, `password`, `code=` or `"code"`) is returned as it is after one
    /// pass over its bytes, so redacting ordinary error bodies costs microseconds.
    public static func redact(_ text: String) -> String {
        guard mayHoldSecret(text) else { return text }
        // "Bearer abc.def", "OAuth abc"; session ids (org id, "!", opaque token); JSON
        // "access_token": "value"; form or query access_token=value. See SecretScanner.
        return String(decoding: SecretScanner.redact(Array(text.utf8)), as: UTF8.self)
    }

    /// `body` with secrets redacted when it is UTF-8 text that holds one; otherwise unchanged.
    public static func redact(_ body: Data) -> Data {
        guard let text = String(data: body, encoding: .utf8), mayHoldSecret(text) else { return body }
        let redacted = redact(text)
        return redacted == text ? body : Data(redacted.utf8)
    }

    /// Whether `text` holds a marker that one of the secret patterns needs (ASCII, case-insensitive).
    static func mayHoldSecret(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable(containsMarker) ?? Array(text.utf8).withUnsafeBufferPointer(containsMarker)
    }

    private static let markers: [[UInt8]] = ["!", "bearer", "oauth", "token", "secret", "assertion", "password", "code=", "\"code\""].map { Array($0.utf8) }

    private static func containsMarker(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
        for start in bytes.indices {
            let first = lower(bytes[start])
            for marker in markers where marker[0] == first && start + marker.count <= bytes.count {
                if (1..<marker.count).allSatisfy({ lower(bytes[start + $0]) == marker[$0] }) { return true }
            }
        }
        return false
    }

    /// The URL as text with secret query values redacted.
    public static func redactURL(_ url: URL) -> String {
        redact(url.absoluteString)
    }
}
