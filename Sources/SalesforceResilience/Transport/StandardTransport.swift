/// The transport the library uses when you do not pass one: ``CurlTransport`` on Linux, where
/// `URLSession` keeps a core busy while it waits, and ``URLSessionTransport`` elsewhere (and on a
/// Linux machine without libcurl).
public enum StandardTransport {
    /// The platform's transport, with `attemptTimeout` and `maxResponseBytes` for each attempt.
    public static func make(attemptTimeout: Duration = .seconds(60), maxResponseBytes: Int = 128 * 1_024 * 1_024) -> any HTTPTransport {
        #if os(Linux)
        if let curl = try? CurlTransport(options: .init(attemptTimeout: attemptTimeout, maxResponseBytes: maxResponseBytes)) {
            return curl
        }
        #endif
        return URLSessionTransport(options: .init(attemptTimeout: attemptTimeout, maxResponseBytes: maxResponseBytes))
    }
}
