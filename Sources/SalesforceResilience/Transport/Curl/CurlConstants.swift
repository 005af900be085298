import CurlLoader

/// libcurl's option numbers (curl/curl.h: type base + number; stable ABI).
enum CurlOption {
    static let writeData: Int32 = 10_001
    static let url: Int32 = 10_002
    static let postFields: Int32 = 10_015
    static let httpHeader: Int32 = 10_023
    static let headerData: Int32 = 10_029
    static let customRequest: Int32 = 10_036
    static let caInfo: Int32 = 10_065
    static let acceptEncoding: Int32 = 10_102
    static let copyPostFields: Int32 = 10_165
    static let protocols: Int32 = 10_318
    static let writeFunction: Int32 = 20_011
    static let headerFunction: Int32 = 20_079
    static let postFieldSizeLarge: Int32 = 30_120
    static let noBody: Int32 = 44
    static let followLocation: Int32 = 52
    static let verifyPeer: Int32 = 64
    static let freshConnect: Int32 = 74
    static let forbidReuse: Int32 = 75
    static let httpGet: Int32 = 80
    static let verifyHost: Int32 = 81
    static let noSignal: Int32 = 99
    static let timeoutMilliseconds: Int32 = 155
    static let connectTimeoutMilliseconds: Int32 = 156
}

/// libcurl's information numbers.
enum CurlInfo {
    static let responseCode: Int32 = 0x200000 + 2
    static let requestSize: Int32 = 0x200000 + 12
}

/// libcurl's result codes, and what each says about the request.
enum CurlCode {
    static let ok: Int32 = 0

    /// Codes that mean no byte of the request reached a server: nothing to resolve, connect or
    /// trust, or a URL libcurl would not use.
    private static let neverSent: [Int32: TransportError.Kind] = [
        1: .badURL, 3: .badURL, 5: .dnsFailure, 6: .dnsFailure, 7: .connectionRefused,
        35: .tlsFailure, 53: .tlsFailure, 58: .tlsFailure, 59: .tlsFailure, 60: .tlsFailure,
        77: .tlsFailure, 83: .tlsFailure, 90: .tlsFailure, 91: .tlsFailure, 98: .tlsFailure,
    ]

    /// What each code means once the request may have gone out.
    private static let afterSending: [Int32: TransportError.Kind] = [
        8: .badResponse, 16: .badResponse, 18: .badResponse, 52: .badResponse, 61: .badResponse, 92: .badResponse,
        28: .timedOut, 55: .connectionLost, 56: .connectionLost,
    ]

    /// The ``TransportError`` for a failed transfer. `requestSent` is whether libcurl counted
    /// any request bytes as written: a timeout before that is a connection that never opened.
    static func error(_ code: Int32, requestSent: Bool) -> TransportError {
        let text = describe(code)
        if let kind = neverSent[code] {
            return TransportError(delivery: .notSent, kind: kind, message: text, underlyingCode: Int(code))
        }
        if code == 28 && !requestSent {
            return TransportError(delivery: .notSent, kind: .timedOut, message: "no connection in time: \(text)", underlyingCode: Int(code))
        }
        let kind = afterSending[code] ?? .other
        return TransportError(delivery: .ambiguous, kind: kind, message: text, underlyingCode: Int(code))
    }

    /// `libcurl's own text (CURLcode n)`.
    static func describe(_ code: Int32) -> String {
        let text = sr_curl_strerror(code).map { String(cString: $0) } ?? "error"
        return "\(text) (CURLcode \(code))"
    }
}
