import CurlLoader
import Foundation

/// One attempt on libcurl: an easy handle in a multi handle of its own, driven by a thread that
/// blocks in `poll` until the socket, libcurl's timer or a cancellation wakes it. Nothing spins
/// while the server thinks.
///
/// The handle never reuses a connection (`FORBID_REUSE`, `FRESH_CONNECT`): libcurl re-sends a
/// request only on a reused connection, so a lost answer surfaces as an error and only the retry
/// middleware decides whether to send again.
final class CurlTransfer: @unchecked Sendable {
    private let easy: UnsafeMutableRawPointer
    private let multi: UnsafeMutableRawPointer
    private var headerList: UnsafeMutableRawPointer?
    private let body: UnsafeMutableRawBufferPointer?
    private let sink: CurlResponseSink
    /// Set by ``cancel()``; `multi` is `nil` once the worker has released the handles, so a late
    /// cancellation never wakes a freed handle.
    private let control = Lock<(cancelled: Bool, multi: UnsafeMutableRawPointer?)>((false, nil))

    /// Prepares `request`; throws a `notSent` error when libcurl cannot take it.
    init(_ request: HTTPRequest, timeout: Duration, connectTimeout: Duration, maxResponseBytes: Int, caBundlePath: String?) throws {
        guard let easy = sr_curl_easy_init(), let multi = sr_curl_multi_init() else {
            throw TransportError.notSent(.other, "libcurl could not create a transfer")
        }
        self.easy = easy
        self.multi = multi
        sink = CurlResponseSink(limit: maxResponseBytes)
        if let data = request.body {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 1)
            buffer.copyBytes(from: data)
            body = buffer
        } else {
            body = nil
        }
        control.withLock { $0.multi = multi }
        var failed: Int32 = 0
        func set(_ code: Int32) { if code != 0 && failed == 0 { failed = code } }
        set(request.url.absoluteString.withCString { sr_curl_setopt_pointer(easy, CurlOption.url, $0) })
        set(sr_curl_setopt_long(easy, CurlOption.noSignal, 1))
        set(sr_curl_setopt_long(easy, CurlOption.forbidReuse, 1))
        set(sr_curl_setopt_long(easy, CurlOption.freshConnect, 1))
        set(sr_curl_setopt_long(easy, CurlOption.followLocation, 0))
        set(sr_curl_setopt_long(easy, CurlOption.verifyPeer, 1))
        set(sr_curl_setopt_long(easy, CurlOption.verifyHost, 2))
        set(sr_curl_setopt_long(easy, CurlOption.timeoutMilliseconds, Self.milliseconds(timeout)))
        set(sr_curl_setopt_long(easy, CurlOption.connectTimeoutMilliseconds, Self.milliseconds(min(connectTimeout, timeout))))
        set("".withCString { sr_curl_setopt_pointer(easy, CurlOption.acceptEncoding, $0) })
        if let caBundlePath { set(caBundlePath.withCString { sr_curl_setopt_pointer(easy, CurlOption.caInfo, $0) }) }
        // Only HTTP and HTTPS, including where a URL would otherwise lead (libcurl 7.85 and later).
        _ = "http,https".withCString { sr_curl_setopt_pointer(easy, CurlOption.protocols, $0) }
        set(Self.setMethod(request.method, body: body, on: easy))
        headerList = Self.headerList(request.headers, hasBody: body != nil)
        set(sr_curl_setopt_pointer(easy, CurlOption.httpHeader, headerList))
        let context = Unmanaged.passUnretained(sink).toOpaque()
        set(sr_curl_setopt_callback(easy, CurlOption.writeFunction, curlWriteBody))
        set(sr_curl_setopt_pointer(easy, CurlOption.writeData, context))
        set(sr_curl_setopt_callback(easy, CurlOption.headerFunction, curlWriteHeader))
        set(sr_curl_setopt_pointer(easy, CurlOption.headerData, context))
        if failed != 0 {
            release()
            throw TransportError(delivery: .notSent, kind: .badURL, message: "libcurl refused the request: \(CurlCode.describe(failed))",
                                 underlyingCode: Int(failed))
        }
    }

    /// Runs the attempt on a thread of its own and hands its outcome to `done`, once.
    func start(_ done: @escaping @Sendable (Result<HTTPResponse, any Error>) -> Void) {
        let thread = Thread { [self] in done(run()) }
        thread.name = "SalesforceResilience curl"
        thread.stackSize = 256 * 1_024
        thread.start()
    }

    /// Ends the attempt as soon as the worker wakes: at once when it waits in `poll`.
    func cancel() {
        control.withLock { state in
            state.cancelled = true
            if let multi = state.multi { _ = sr_curl_multi_wakeup(multi) }
        }
    }

    private var isCancelled: Bool { control.withLock { $0.cancelled } }

    private func run() -> Result<HTTPResponse, any Error> {
        defer { release() }
        guard !isCancelled else { return .failure(CancellationError()) }
        guard sr_curl_multi_add(multi, easy) == 0 else {
            return .failure(TransportError.notSent(.other, "libcurl could not start the transfer"))
        }
        defer { _ = sr_curl_multi_remove(multi, easy) }
        var running: Int32 = 1
        while true {
            if isCancelled { return .failure(CancellationError()) }
            let code = sr_curl_multi_perform(multi, &running)
            guard code == 0 else {
                return .failure(TransportError.ambiguous(.other, "libcurl's transfer loop failed (CURLM code \(code))"))
            }
            if running == 0 { break }
            // libcurl shortens the wait to its own next timeout; the cap only bounds a lost wakeup.
            _ = sr_curl_multi_poll(multi, 1_000)
        }
        var result: Int32 = 0
        guard sr_curl_multi_done(multi, &result) == 1 else {
            return .failure(TransportError.ambiguous(.other, "libcurl ended the transfer without a result"))
        }
        return outcome(result)
    }

    private func outcome(_ code: Int32) -> Result<HTTPResponse, any Error> {
        if code == CurlCode.ok {
            var status = 0
            _ = sr_curl_getinfo_long(easy, CurlInfo.responseCode, &status)
            return .success(HTTPResponse(status: status, headers: sink.headers, body: sink.body))
        }
        if sink.exceeded {
            return .failure(TransportError.ambiguous(.badResponse, "the answer is larger than the limit of \(sink.limit) bytes; abandoned"))
        }
        var requestBytes = 0
        _ = sr_curl_getinfo_long(easy, CurlInfo.requestSize, &requestBytes)
        return .failure(CurlCode.error(code, requestSent: requestBytes > 0))
    }

    private func release() {
        control.withLock { $0.multi = nil }
        sr_curl_multi_cleanup(multi)
        sr_curl_easy_cleanup(easy)
        if let headerList { sr_curl_slist_free_all(headerList) }
        headerList = nil
        body?.deallocate()
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(clamping: seconds) &* 1_000 &+ Int(attoseconds / 1_000_000_000_000_000))
    }

    private static func setMethod(_ method: HTTPMethod, body: UnsafeMutableRawBufferPointer?, on easy: UnsafeMutableRawPointer) -> Int32 {
        switch (method, body) {
        case (.get, nil):
            return sr_curl_setopt_long(easy, CurlOption.httpGet, 1)
        case (.head, _):
            return sr_curl_setopt_long(easy, CurlOption.noBody, 1)
        case (_, let body?):
            var code = sr_curl_setopt_off(easy, CurlOption.postFieldSizeLarge, Int64(body.count))
            if code == 0 { code = sr_curl_setopt_pointer(easy, CurlOption.postFields, body.baseAddress) }
            if code == 0 && method != .post { code = method.rawValue.withCString { sr_curl_setopt_pointer(easy, CurlOption.customRequest, $0) } }
            return code
        case (.post, nil):
            let code = sr_curl_setopt_off(easy, CurlOption.postFieldSizeLarge, 0)
            return code == 0 ? "".withCString { sr_curl_setopt_pointer(easy, CurlOption.copyPostFields, $0) } : code
        case (_, nil):
            return method.rawValue.withCString { sr_curl_setopt_pointer(easy, CurlOption.customRequest, $0) }
        }
    }

    /// The request's fields, without `Connection` (the transport closes every connection) and
    /// with two of libcurl's own additions switched off: `Expect: 100-continue` and, for a body
    /// without a `Content-Type`, the form type.
    private static func headerList(_ headers: HTTPHeaders, hasBody: Bool) -> UnsafeMutableRawPointer? {
        var list: UnsafeMutableRawPointer?
        func append(_ line: String) { list = line.withCString { sr_curl_slist_append(list, $0) } ?? list }
        var hasContentType = false
        for field in headers where field.name.lowercased() != "connection" && field.name.lowercased() != "expect" {
            if field.name.lowercased() == "content-type" { hasContentType = true }
            // A field line cannot carry a line break: it would split the request in two.
            let breaks: (Unicode.Scalar) -> Bool = { $0 == "\r" || $0 == "\n" }
            guard !field.name.unicodeScalars.contains(where: { breaks($0) || $0 == ":" }) else { continue }
            let value = String(String.UnicodeScalarView(field.value.unicodeScalars.filter { !breaks($0) }))
            append(value.isEmpty ? "\(field.name);" : "\(field.name): \(value)")
        }
        append("Expect:")
        if hasBody && !hasContentType { append("Content-Type:") }
        return list
    }
}

/// Collects the answer as libcurl delivers it: the headers of the final response, and the body
/// up to a limit.
final class CurlResponseSink {
    let limit: Int
    var headers = HTTPHeaders()
    var body = Data()
    var exceeded = false

    init(limit: Int) { self.limit = limit }

    /// One header line, with its line break. A status line starts a new response (after a
    /// `100 Continue`, say), so the headers of an earlier one are dropped.
    func header(_ line: Substring) {
        let trimmed = line.trimmingCharacters(in: .newlines)
        if trimmed.hasPrefix("HTTP/") {
            headers = HTTPHeaders()
        } else if let colon = trimmed.firstIndex(of: ":") {
            let name = trimmed[..<colon].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if !name.isEmpty { headers.add(name: name, value: value) }
        }
    }

    /// Takes `bytes` of body; `false` past the limit, which makes libcurl abandon the answer.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            exceeded = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }
}

private let curlWriteBody: sr_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<CurlResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    return sink.append(UnsafeRawBufferPointer(start: data, count: length)) ? length : 0
}

private let curlWriteHeader: sr_curl_data_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<CurlResponseSink>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    sink.header(line[...])
    return length
}
