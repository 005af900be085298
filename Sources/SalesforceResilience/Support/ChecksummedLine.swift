import Foundation

/// One record of a file we own: JSON, a tab, the CRC-32 of the JSON as eight hex digits, a
/// newline. (JSON text never holds a raw tab or newline.) A changed byte fails the checksum
/// instead of being read as a different record.
enum ChecksummedLine {
    /// `json` framed as a line, newline included.
    static func encode(_ json: Data) -> Data {
        var data = json
        let checksum = String(CRC32.checksum(json), radix: 16)
        data.append(0x09)
        data.append(contentsOf: Array(String(repeating: "0", count: 8 - checksum.count).utf8) + Array(checksum.utf8))
        data.append(0x0A)
        return data
    }

    /// The JSON of a line (without its newline), or `nil` if the frame or checksum is wrong.
    static func decode(_ line: Data.SubSequence) -> Data.SubSequence? {
        guard let tab = line.lastIndex(of: 0x09), line.distance(from: tab, to: line.endIndex) == 9,
              let expected = UInt32(String(decoding: line[line.index(after: tab)...], as: UTF8.self), radix: 16)
        else { return nil }
        let json = line[..<tab]
        return CRC32.checksum(json) == expected ? json : nil
    }
}
