/// The secret patterns of ``Redaction``, found in linear passes over bytes.
///
/// Regular expressions did the same job at about 1.3 ms per text on this toolchain, and an error
/// that echoes a session id is redacted in four places: a storm of such answers cost a core.
/// Each pass here is one scan; the four run in the order the expressions did:
/// 1. `bearer` or `oauth` (any case), whitespace, then a token `[A-Za-z0-9._~+/!=-]+`;
/// 2. a session id: `00D`, 12 to 15 letters or digits, `!`, then `[A-Za-z0-9._]+`;
/// 3. a JSON member `"key": "value"` for a secret key;
/// 4. a form or query pair `key=value` for a secret key, not preceded by a letter or `_`.
enum SecretScanner {
    static let keys: [[UInt8]] = ["access_token", "refresh_token", "client_secret", "assertion", "token", "password", "code"].map { Array($0.utf8) }
    private static let placeholder = Array(Redaction.placeholder.utf8)

    /// `text` with every secret replaced by the placeholder.
    static func redact(_ text: [UInt8]) -> [UInt8] {
        sessionFormPass(jsonPass(sessionIDPass(bearerPass(text))))
    }

    // MARK: Passes

    private static func bearerPass(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let keyword = [Array("bearer".utf8), Array("oauth".utf8)].first(where: { matchesIgnoringCase($0, in: bytes, at: index) }) {
                var cursor = index + keyword.count
                let spaceStart = cursor
                while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
                let tokenStart = cursor
                while cursor < bytes.count, isBearerTokenByte(bytes[cursor]) { cursor += 1 }
                if cursor > spaceStart, tokenStart > spaceStart, cursor > tokenStart {
                    out += bytes[index..<(index + keyword.count)]
                    out.append(UInt8(ascii: " "))
                    out += placeholder
                    index = cursor
                    continue
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    private static func sessionIDPass(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        let prefix = Array("00D".utf8)
        while index < bytes.count {
            if matches(prefix, in: bytes, at: index) {
                var cursor = index + 3
                while cursor < bytes.count, cursor - index - 3 < 16, isAlphanumeric(bytes[cursor]) { cursor += 1 }
                let run = cursor - index - 3
                // The alphanumeric run must end at the `!` after 12 to 15 characters.
                if (12...15).contains(run), cursor < bytes.count, bytes[cursor] == UInt8(ascii: "!") {
                    var end = cursor + 1
                    while end < bytes.count, isSessionByte(bytes[end]) { end += 1 }
                    if end > cursor + 1 {
                        out += placeholder
                        index = end
                        continue
                    }
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    private static func jsonPass(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\""), let key = keys.first(where: { quotedKey($0, in: bytes, at: index) }) {
                var cursor = index + key.count + 2
                while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
                if cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") {
                    cursor += 1
                    while cursor < bytes.count, isSpace(bytes[cursor]) { cursor += 1 }
                    if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\""),
                       let close = bytes[(cursor + 1)...].firstIndex(of: UInt8(ascii: "\"")) {
                        out += bytes[index...cursor]
                        out += placeholder
                        out.append(UInt8(ascii: "\""))
                        index = close + 1
                        continue
                    }
                }
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    private static func sessionFormPass(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let boundary = index == 0 || !(isLetter(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: "_"))
            if boundary, let key = keys.first(where: { matches($0 + [UInt8(ascii: "=")], in: bytes, at: index) }) {
                var cursor = index + key.count + 1
                while cursor < bytes.count, !isFormValueEnd(bytes[cursor]) { cursor += 1 }
                out += bytes[index..<(index + key.count + 1)]
                out += placeholder
                index = cursor
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return out
    }

    // MARK: Bytes

    private static func matches(_ word: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard index + word.count <= bytes.count else { return false }
        for offset in word.indices where bytes[index + offset] != word[offset] { return false }
        return true
    }

    private static func matchesIgnoringCase(_ lowercaseWord: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard index + lowercaseWord.count <= bytes.count else { return false }
        for offset in lowercaseWord.indices where lower(bytes[index + offset]) != lowercaseWord[offset] { return false }
        return true
    }

    /// `"key"` at `index`.
    private static func quotedKey(_ key: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        matches(key, in: bytes, at: index + 1) && index + key.count + 1 < bytes.count && bytes[index + key.count + 1] == UInt8(ascii: "\"")
    }

    private static func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }
    private static func isLetter(_ byte: UInt8) -> Bool { (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }
    /// Regex `\s` in ASCII: space, tab, LF, VT, FF, CR.
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
    private static func isBearerTokenByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || "._~+/!=-".utf8.contains(byte) }
    private static func isSessionByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") }
    private static func isFormValueEnd(_ byte: UInt8) -> Bool { byte == UInt8(ascii: "&") || byte == UInt8(ascii: "\"") || isSpace(byte) }
}
