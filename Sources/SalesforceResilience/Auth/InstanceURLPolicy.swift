import Foundation

/// Which instance URLs the client will send a token to.
public enum InstanceURLPolicy {
    /// Accepts `https` URLs, and `http` to a loopback address (127.0.0.0/8, `::1`, `localhost`)
    /// only when `allowHTTPLoopback` is true.
    ///
    /// - Throws: ``AuthenticationError/insecureInstanceURL(_:)``.
    public static func validate(_ url: URL, allowHTTPLoopback: Bool) throws {
        let scheme = url.scheme?.lowercased()
        guard let host = url.host?.lowercased(), !host.isEmpty else {
            throw AuthenticationError.insecureInstanceURL(Redaction.redactURL(url))
        }
        if scheme == "https" { return }
        if scheme == "http", allowHTTPLoopback, isLoopback(host) { return }
        throw AuthenticationError.insecureInstanceURL(Redaction.redactURL(url))
    }

    /// What is wrong with the shape of an instance URL, or `nil`: it must be a base URL — scheme,
    /// host and optional port — because request paths are appended to it. A path, query,
    /// fragment or user name would send requests somewhere else.
    public static func shapeProblem(of url: URL) -> String? {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        if let path = components?.percentEncodedPath, !path.isEmpty, path != "/" { return "has a path (\(path))" }
        if components?.percentEncodedQuery != nil { return "has a query" }
        if components?.percentEncodedFragment != nil { return "has a fragment" }
        if components?.user != nil || components?.password != nil { return "has a user name or password" }
        return nil
    }

    /// Whether `host` names this machine.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

extension URL {
    /// The URL as text without trailing slashes: the base that paths are appended to.
    var baseText: String {
        var text = absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
