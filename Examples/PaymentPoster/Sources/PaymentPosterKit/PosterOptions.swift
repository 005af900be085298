import Foundation

/// PaymentPoster's command line.
public struct PosterOptions: Sendable, Equatable {
    /// Payments to post. Default 2,000.
    public var count = 2_000
    /// Payments enqueued per second. Default 5 (in virtual time on the simulator), so the run
    /// spans the whole incident.
    public var rate = 5
    /// The sObject. Default `Payment__c`.
    public var sobject = "Payment__c"
    /// The external id field. Default `Reference__c`.
    public var externalIdField = "Reference__c"
    /// The outbox journal; `nil` for a fresh temporary file (simulator) or
    /// `paymentposter.journal` (real org).
    public var journal: String?
    /// Accept an `http` instance URL on a loopback address.
    public var allowHTTPLoopback = false
    /// A real org to post to instead of the embedded simulator.
    public var instanceURL: URL?
    /// The chaos seed (simulator only). Default 42.
    public var seed: UInt64 = 42
    /// Print progress lines. Default true.
    public var progress = true
    /// The longest the run waits without delivering anything (a daily limit, an outage, an
    /// operator's pause) before it stops, leaving every payment in the journal; `nil` waits as
    /// long as it takes.
    public var maxWait: Duration?
    /// A credential store file shared by every PaymentPoster (and anything else using the same
    /// connected app) on this machine: one token refresh per expiry for all of them, safe under
    /// Refresh Token Rotation. Real-org mode only.
    public var tokenStore: String?

    /// The defaults.
    public init() {}

    /// The usage text.
    public static let usage = """
    usage: PaymentPoster [--count N] [--rate N] [--sobject NAME] [--external-id-field NAME]
                         [--journal PATH] [--seed N] [--quiet] [--max-wait DURATION]
                         [--instance-url URL [--allow-http-loopback] [--token-store PATH]]
    Without --instance-url, posts to the embedded Salesforce simulator through a 503 storm, lost
    responses and a session expiry, in accelerated time. With it, posts to that org through the
    outbox; credentials come from SF_ACCESS_TOKEN; or SF_REFRESH_TOKEN with SF_CLIENT_ID (and
    SF_CLIENT_SECRET if the app requires it; SF_LOGIN_URL, default the instance URL); or
    SF_CLIENT_ID and SF_CLIENT_SECRET (client credentials).
    --token-store shares the token with every process using the same file: one refresh per
    expiry for all of them; under Refresh Token Rotation the newest refresh token lives there
    (it wins over SF_REFRESH_TOKEN). Keep the file private: it holds the refresh token.
    --max-wait (90s, 15m, 2h) stops a run that has delivered nothing for that long; the payments
    stay in the journal and the exact command to resume is printed. A login that fails for a
    reason a retry can fix (an outage) is retried with backoff, up to --max-wait if given.
    Exit status: 0 every payment landed once; 1 payments undelivered, lost or duplicated, or an
    error; 2 a bad command line; 3 stopped by --max-wait with payments still queued (or before
    the login succeeded).
    """

    /// A bad command line.
    public struct UsageError: Error, CustomStringConvertible, Equatable {
        /// What was wrong.
        public var description: String
    }

    /// Parses `arguments` (without the program name).
    public static func parse(_ arguments: [String]) throws -> PosterOptions {
        var options = PosterOptions()
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let value = rest.popFirst() else { throw UsageError(description: "\(flag) needs a value") }
            return value
        }
        func positive(_ flag: String) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number > 0 else { throw UsageError(description: "\(flag) needs a positive number, not \(text)") }
            return number
        }
        func name(_ flag: String) throws -> String {
            let text = try value(flag)
            guard isAPIName(text) else { throw UsageError(description: "\(flag) needs a Salesforce API name (letters, digits, _), not \(text)") }
            return text
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--count": options.count = try positive(flag)
            case "--rate": options.rate = try positive(flag)
            case "--sobject": options.sobject = try name(flag)
            case "--external-id-field": options.externalIdField = try name(flag)
            case "--journal": options.journal = try value(flag)
            case "--allow-http-loopback": options.allowHTTPLoopback = true
            case "--token-store": options.tokenStore = try value(flag)
            case "--quiet": options.progress = false
            case "--seed":
                let text = try value(flag)
                guard let seed = UInt64(text) else { throw UsageError(description: "--seed needs a number, not \(text)") }
                options.seed = seed
            case "--max-wait":
                let text = try value(flag)
                guard let duration = parseDuration(text) else { throw UsageError(description: "--max-wait needs a duration such as 90s, 15m or 2h, not \(text)") }
                options.maxWait = duration
            case "--instance-url":
                let text = try value(flag)
                guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw UsageError(description: "--instance-url \(text) is not a URL") }
                options.instanceURL = url
            case "--help", "-h": throw UsageError(description: usage)
            default: throw UsageError(description: "unknown option \(flag)\n\(usage)")
            }
        }
        try options.validateInstanceURL()
        if options.tokenStore != nil, options.instanceURL == nil {
            throw UsageError(description: "--token-store needs --instance-url: the embedded simulator's tokens are its own")
        }
        return options
    }

    /// A Salesforce org is reached over https; http only to this machine, and only when asked.
    func validateInstanceURL() throws {
        guard let url = instanceURL, url.scheme?.lowercased() != "https" else { return }
        let host = url.host ?? ""
        let loopback = host == "localhost" || host == "::1" || host.hasPrefix("127.")
        guard url.scheme?.lowercased() == "http", loopback else {
            throw UsageError(description: "--instance-url \(url.absoluteString) must be https (a Salesforce org), or http on 127.0.0.1 with --allow-http-loopback")
        }
        guard allowHTTPLoopback else {
            throw UsageError(description: "--instance-url \(url.absoluteString) is plain http: add --allow-http-loopback to post to a local simulator (a real org needs https)")
        }
    }

    /// The command line that resumes this run on the same journal (at `journal`, absolute).
    func resumeCommand(journal: String) -> String {
        var words = ["PaymentPoster"]
        if let instanceURL { words += ["--instance-url", instanceURL.absoluteString] }
        if allowHTTPLoopback { words.append("--allow-http-loopback") }
        if let tokenStore { words += ["--token-store", tokenStore] }
        words += ["--journal", journal, "--count", String(count), "--rate", String(rate)]
        if sobject != "Payment__c" { words += ["--sobject", sobject] }
        if externalIdField != "Reference__c" { words += ["--external-id-field", externalIdField] }
        if instanceURL == nil { words += ["--seed", String(seed)] }
        if !progress { words.append("--quiet") }
        if let maxWait { words += ["--max-wait", "\(Int64(maxWait.seconds))s"] }
        return words.map(Self.shellQuoted).joined(separator: " ")
    }

    /// `90`, `90s`, `15m`, `2h` (whole numbers).
    static func parseDuration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = text.dropLast()
        }
        guard let number = Int64(digits), number > 0, number <= Int64.max / 3_600 else { return nil }
        return .seconds(number * unit)
    }

    private static func isAPIName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    private static func shellQuoted(_ word: String) -> String {
        let safe = word.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_./:=@%+,".unicodeScalars.contains($0)) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
