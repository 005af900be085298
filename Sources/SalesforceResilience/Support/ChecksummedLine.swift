import Foundation

/// One record of a file we own: JSON, a tab, the CRC-32 of the JSON as eight hex digits, a
/// newline. (JSON text never holds a raw tab or newline.) A changed byte fails the checksum
/// instead of being read as a different record.
package enum ChecksummedLine {
    /// `json` framed as a line, newline included.
    package static func encode(_ json: Data) -> Data {
        var data = json
        let checksum = String(CRC32.checksum(json), radix: 16)
        data.append(0x09)
        data.append(contentsOf: Array(String(repeating: "0", count: 8 - checksum.count).utf8) + Array(checksum.utf8))
        data.append(0x0A)
        return data
    }

    /// The JSON of a line (without its newline), or `nil` if the frame or checksum is wrong.
    package static func decode(_ line: Data.SubSequence) -> Data.SubSequence? {
        let length = line.withUnsafeBytes { decode($0)?.count }
        return length.map { line.prefix($0) }
    }

    /// The JSON of a line in a buffer (without its newline), or `nil` if the frame or checksum is wrong.
    package static func decode(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        guard line.count >= 9, line[line.count - 9] == 0x09,
              let expected = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: line[(line.count - 8)...]), as: UTF8.self), radix: 16)
        else { return nil }
        let json = UnsafeRawBufferPointer(rebasing: line[..<(line.count - 9)])
        return CRC32.checksum(json) == expected ? json : nil
    }
}
