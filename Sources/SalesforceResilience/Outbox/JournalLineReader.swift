/// Reads one journal line's change as ``JournalFormat/json(_:)`` writes it, without Foundation's
/// decoder: entries' fields are checked and kept as the bytes they are, never decoded. Any line
/// it does not take (`nil`) goes to `JSONDecoder`.
enum JournalLineReader {
    static func change(_ json: UnsafeRawBufferPointer) -> OutboxChange? {
        var scanner = JSONScanner(json)
        var change: OutboxChange?
        let read = scanner.object { scanner, name in
            guard change == nil else { return false }
            return scanner.object { scanner, label in
                guard label == "_0", change == nil else { return false }
                change = body(name, &scanner)
                return change != nil
            }
        }
        guard read, scanner.atEnd else { return nil }
        return change
    }

    private static func body(_ name: String, _ scanner: inout JSONScanner) -> OutboxChange? {
        switch name {
        case "enqueue":
            var entries: [StoredEntry] = []
            let read = scanner.array { scanner in
                guard let entry = entry(&scanner) else { return false }
                entries.append(entry)
                return true
            }
            return read ? .enqueue(entries) : nil
        case "acknowledge", "attempt", "deadLetter":
            var keys: [String] = []
            let read = scanner.array { scanner in
                guard let key = scanner.string() else { return false }
                keys.append(key)
                return true
            }
            guard read else { return nil }
            return name == "acknowledge" ? .acknowledge(keys) : name == "attempt" ? .attempt(keys) : .deadLetter(keys)
        case "metadata":
            var values: [String: String] = [:]
            let read = scanner.object { scanner, key in
                guard let value = scanner.string() else { return false }
                values[key] = value
                return true
            }
            return read ? .metadata(values) : nil
        default:
            return nil
        }
    }

    private static func entry(_ scanner: inout JSONScanner) -> StoredEntry? {
        var sobject: String?, field: String?, externalId: String?, fields: [UInt8]?, enqueuedAt: Double?, attempts: Int?
        var group: String?
        let read = scanner.objectWithPlainKeys { scanner, key in
            if JSONScanner.isKey(key, "sobject") {
                sobject = scanner.string()
                return sobject != nil
            } else if JSONScanner.isKey(key, "externalIdField") {
                field = scanner.string()
                return field != nil
            } else if JSONScanner.isKey(key, "externalId") {
                externalId = scanner.string()
                return externalId != nil
            } else if JSONScanner.isKey(key, "fields") {
                guard scanner.peek() == UInt8(ascii: "{"), let range = scanner.skipValue() else { return false }
                fields = Array(scanner.bytes[range])
                return true
            } else if JSONScanner.isKey(key, "enqueuedAt") {
                enqueuedAt = scanner.number()
                return enqueuedAt != nil
            } else if JSONScanner.isKey(key, "attempts") {
                guard let number = scanner.number(), let whole = Int(exactly: number) else { return false }
                attempts = whole
                return true
            } else if JSONScanner.isKey(key, "group") {
                if scanner.peek() == UInt8(ascii: "n") { return scanner.skipValue() != nil }
                group = scanner.string()
                return group != nil
            }
            return false
        }
        guard read, let sobject, let field, let externalId, let fields, let enqueuedAt, let attempts else { return nil }
        return StoredEntry(sobject: sobject, externalIdField: field, externalId: externalId, fields: .json(fields), enqueuedAt: enqueuedAt,
                           attempts: attempts, group: group)
    }
}
