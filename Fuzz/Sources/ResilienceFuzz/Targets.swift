import Foundation
@testable import SalesforceResilience
@testable import SalesforceResilienceTesting
@testable import SalesforceResiliencePubSub

/// One parser under fuzzing: it must never trap, hang or leak on any input, and the properties
/// checked here (with `check`, which crashes so libFuzzer keeps the input) must hold.
struct FuzzTarget: Sendable {
    let name: String
    let body: @Sendable (Data) -> Void

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "error-body") { data in
            // First byte picks the status; the rest is the body, as any proxy might send it.
            let status = 400 + Int(data.first ?? 0) % 200
            let response = HTTPResponse(status: status, headers: ["Content-Type": "text/html"], body: data.dropFirst().isEmpty ? Data() : Data(data.dropFirst()))
            let classifier = OutcomeClassifier()
            if let error = classifier.error(for: response, operation: "fuzz") {
                _ = error.description
                check(error.category == classifier.classify(response), "error(for:) and classify(_:) disagree")
            }
        },
        FuzzTarget(name: "retry-after") { data in
            let text = String(decoding: data, as: UTF8.self)
            if let delay = RetryAfter.delay(from: text, now: Date(timeIntervalSince1970: 1_767_225_600), maximum: .seconds(120)) {
                check(delay >= .zero && delay <= .seconds(120), "a Retry-After delay outside 0…120 s: \(delay)")
            }
            if let date = HTTPDate.parse(text) {
                check(HTTPDate.parse(HTTPDate.format(date)) == date, "an HTTP-date does not survive format and parse")
            }
        },
        FuzzTarget(name: "limit-info") { data in
            if let usage = APIUsage.parse(String(decoding: data, as: UTF8.self)) {
                check(usage.used >= 0 && usage.max >= 0, "negative usage")
                _ = usage.fraction
            }
        },
        FuzzTarget(name: "token-response") { data in
            if let token = try? OAuthTokenResponse.parse(data) {
                check(!token.value.isEmpty, "an empty access token accepted")
                // The instance URL is shown (redacted); a token that is part of it is not leaked by it.
                let shown = String(describing: token).replacingOccurrences(of: token.instanceURL.map(Redaction.redactURL) ?? "\u{0}", with: "")
                check(!shown.contains(token.value) || token.value.count < 4, "a token shows in its description")
            }
        },
        FuzzTarget(name: "json-value") { data in
            if let value = try? JSONDecoder().decode(JSONValue.self, from: data), let encoded = try? JSONEncoder().encode(value) {
                check((try? JSONDecoder().decode(JSONValue.self, from: encoded)) == value, "a JSON value does not survive encoding")
            }
            _ = OutcomeClassifier.parseErrors(data)
        },
        FuzzTarget(name: "csv") { data in
            let text = String(decoding: data, as: UTF8.self)
            if let rows = try? CSV.parse(text), !rows.contains(where: { $0 == [""] }) {
                check((try? CSV.parse(CSV.encode(rows))) == rows, "CSV rows do not survive encoding")
            }
            for field in text.split(separator: "\n").prefix(4) {
                let value = String(field)
                check((try? CSV.parse(CSV.encode([[value, "x"]]))) == [[value, "x"]], "a field does not survive encoding")
            }
        },
        FuzzTarget(name: "json-bytes") { data in
            let bytes = Array(data)
            let parsed = JSONBytes.parse(bytes)
            let skipped = bytes.withUnsafeBytes { buffer -> Bool in
                var scanner = JSONScanner(buffer)
                return scanner.skipValue() != nil && scanner.atEnd
            }
            check(skipped == (parsed != nil), "skipValue and value disagree on whether the input is JSON")
            if let parsed {
                var written: [UInt8] = []
                check((try? JSONBytes.write(parsed, to: &written)) != nil, "a parsed value cannot be written")
                check(JSONBytes.parse(written) == parsed, "a JSON value does not survive writing and parsing")
            }
        },
        FuzzTarget(name: "avro") { data in
            // The first byte picks a schema; the rest is the payload. A payload that decodes has
            // one canonical encoding: encoding it and decoding that gives the same bytes again.
            guard let pick = data.first else { return }
            let schema = AvroFuzzSchemas.all[Int(pick) % AvroFuzzSchemas.all.count]
            let decoder = AvroDecoder(maxDepth: 32, maxItems: 10_000)
            guard let value = try? decoder.decode(data.dropFirst(), as: schema) else { return }
            guard let encoded = try? AvroEncoder().encode(value, as: schema) else { return check(false, "a decoded value cannot be encoded") }
            guard let again = try? decoder.decode(encoded, as: schema) else { return check(false, "an encoded value does not decode") }
            check((try? AvroEncoder().encode(again, as: schema)) == encoded, "an Avro value does not survive encoding and decoding")
        },
        FuzzTarget(name: "avro-schema") { data in
            let text = String(decoding: data, as: UTF8.self)
            if let schema = try? AvroSchema(json: text) {
                _ = try? AvroDecoder(maxDepth: 16, maxItems: 1_000).decode([UInt8](repeating: 0, count: 16), as: schema)
                _ = try? ChangeEventBitmap.fieldNames(["0x7", "0-0x1"], in: schema)
            }
        },
        FuzzTarget(name: "replay-store") { data in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-replay-\(getpid()).store").path
            guard FileManager.default.createFile(atPath: path, contents: data) else { return }
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = try? FileReplayStore.read(path)
        },
        FuzzTarget(name: "journal") { data in
            if let replay = try? JournalFormat.replay(data, path: "fuzz") {
                check(replay.validBytes <= data.count, "replay claims more bytes than it was given")
                _ = replay.state.pending(limit: 10)
            }
        },
        FuzzTarget(name: "result-cache") { data in
            if let (key, result) = FileResultCache.decode(data) {
                _ = (key, result.data.count)
            }
        },
        FuzzTarget(name: "soql") { data in
            let text = String(decoding: data, as: UTF8.self)
            _ = SimulatorSOQL.parse(text)
            // Any string quoted by the SOQL builder reads back as itself.
            var tokens = SimulatorSOQL.Tokens(SOQL.quote(text))
            check(tokens.literal() == .string(text), "a quoted SOQL literal does not read back as itself")
        },
    ]
}

/// The schemas the `avro` target decodes by: every type and logical type, a recursive record.
enum AvroFuzzSchemas {
    static let all: [AvroSchema] = [
        #"{"type": "record", "name": "E", "namespace": "com.sforce.eventbus", "fields": [{"name": "CreatedDate", "type": {"type": "long", "logicalType": "timestamp-millis"}}, {"name": "Id", "type": ["null", "string"]}, {"name": "Amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 16, "scale": 2}]}, {"name": "Kind", "type": {"type": "enum", "name": "K", "symbols": ["A", "B", "C"]}}, {"name": "Tags", "type": {"type": "array", "items": "string"}}, {"name": "Counts", "type": {"type": "map", "values": "int"}}, {"name": "Digest", "type": {"type": "fixed", "name": "D", "size": 4}}, {"name": "Flag", "type": "boolean"}, {"name": "Ratio", "type": "float"}, {"name": "Score", "type": "double"}, {"name": "Raw", "type": "bytes"}, {"name": "Micros", "type": {"type": "long", "logicalType": "timestamp-micros"}}]}"#,
        #"{"type": "record", "name": "Node", "fields": [{"name": "value", "type": "long"}, {"name": "next", "type": ["null", "Node"]}]}"#,
        #"{"type": "array", "items": {"type": "map", "values": ["null", "double", {"type": "array", "items": "null"}]}}"#,
        #"{"type": "fixed", "name": "Money", "size": 9, "logicalType": "decimal", "precision": 20, "scale": 4}"#,
    ].map { try! AvroSchema(json: $0) }
}

/// Crashes, so that libFuzzer saves the input, when a property does not hold.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("property violated: \(message())") }
}
