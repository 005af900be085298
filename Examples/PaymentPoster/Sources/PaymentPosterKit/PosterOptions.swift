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

    /// The defaults.
    public init() {}

    /// The usage text.
    public static let usage = """
    usage: PaymentPoster [--count N] [--rate N] [--sobject NAME] [--external-id-field NAME]
                         [--journal PATH] [--seed N] [--quiet]
                         [--instance-url URL [--allow-http-loopback]]
    Without --instance-url, posts to the embedded Salesforce simulator through a 503 storm, lost
    responses and a session expiry, in accelerated time. With it, posts to that org through the
    outbox; credentials come from SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET.
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
        while let flag = rest.popFirst() {
            switch flag {
            case "--count": options.count = try positive(flag)
            case "--rate": options.rate = try positive(flag)
            case "--sobject": options.sobject = try value(flag)
            case "--external-id-field": options.externalIdField = try value(flag)
            case "--journal": options.journal = try value(flag)
            case "--allow-http-loopback": options.allowHTTPLoopback = true
            case "--quiet": options.progress = false
            case "--seed":
                let text = try value(flag)
                guard let seed = UInt64(text) else { throw UsageError(description: "--seed needs a number, not \(text)") }
                options.seed = seed
            case "--instance-url":
                let text = try value(flag)
                guard let url = URL(string: text), url.scheme != nil, url.host != nil else { throw UsageError(description: "--instance-url \(text) is not a URL") }
                options.instanceURL = url
            case "--help", "-h": throw UsageError(description: usage)
            default: throw UsageError(description: "unknown option \(flag)\n\(usage)")
            }
        }
        return options
    }
}
