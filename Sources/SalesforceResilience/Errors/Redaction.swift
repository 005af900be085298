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
    public static func redact(_ text: String) -> String {
        var result = text
        // "Bearer abc.def" and "OAuth abc"
        result.replace(/(?i)(bearer|oauth)\s+[A-Za-z0-9._~+\/!=-]+/) { match in "\(match.output.1) \(placeholder)" }
        // Salesforce session ids: org id, "!", opaque token.
        result.replace(/00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]+/) { _ in placeholder }
        // JSON: "access_token": "value"
        result.replace(/("(?:access_token|refresh_token|client_secret|assertion|token|password|code)"\s*:\s*")[^"]*(")/) { match in
            "\(match.output.1)\(placeholder)\(match.output.2)"
        }
        // Form or query: access_token=value
        result.replace(/(^|[^A-Za-z_])((?:access_token|refresh_token|client_secret|assertion|token|password|code)=)[^&\s"]*/) { match in
            "\(match.output.1)\(match.output.2)\(placeholder)"
        }
        return result
    }

    /// The URL as text with secret query values redacted.
    public static func redactURL(_ url: URL) -> String {
        redact(url.absoluteString)
    }
}
