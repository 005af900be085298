extension StringProtocol {
    /// The text without leading and trailing optional whitespace — spaces and horizontal tabs,
    /// RFC 9110's `OWS` — for parsing header values. Pure Swift: Foundation's
    /// `trimmingCharacters(in:)` bridges through `NSString` on Linux and dominated the cost of
    /// parsing `Sforce-Limit-Info` on every response.
    var trimmingHTTPWhitespace: SubSequence {
        func isOWS(_ character: Character) -> Bool { character == " " || character == "\t" }
        var start = startIndex
        var end = endIndex
        while start < end, isOWS(self[start]) { start = index(after: start) }
        while end > start, isOWS(self[index(before: end)]) { end = index(before: end) }
        return self[start..<end]
    }
}
