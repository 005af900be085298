import Foundation

// How the benchmark reports. Without `--json` every benchmark prints its sentence and the named
// figures follow it as `name = value unit (target …: met)`. With `--json` standard output carries
// only the named figures, one JSON object per line ({name, value, unit, target, met}, plus `note`
// when there is one), and the sentences go to standard error.

/// Whether `--json` was given.
nonisolated(unsafe) var jsonOutput = false

/// A bound a figure must stay within.
enum Target {
    case atMost(Double)
    case atLeast(Double)

    func met(by value: Double) -> Bool {
        switch self {
        case .atMost(let bound): value <= bound
        case .atLeast(let bound): value >= bound
        }
    }

    var text: String {
        switch self {
        case .atMost(let bound): "<= \(Report.number(bound))"
        case .atLeast(let bound): ">= \(Report.number(bound))"
        }
    }
}

enum Report {
    /// A sentence for people: standard output, or standard error under `--json`.
    static func say(_ text: String) {
        if jsonOutput {
            FileHandle.standardError.write(Data((text + "\n").utf8))
        } else {
            print(text)
        }
    }

    /// A named figure. `value` is `nil` when it was not measured; `note` says why.
    static func figure(_ name: String, _ value: Double?, unit: String, target: Target? = nil, note: String? = nil) {
        let met: Bool? = target.map { target in value.map(target.met(by:)) ?? false }
        if jsonOutput {
            var fields = [
                "\"name\":\(quoted(name))",
                "\"value\":\(value.map(number) ?? "null")",
                "\"unit\":\(quoted(unit))",
                "\"target\":\(target.map { quoted($0.text) } ?? "null")",
                "\"met\":\(met.map { $0 ? "true" : "false" } ?? "null")",
            ]
            if let note { fields.append("\"note\":\(quoted(note))") }
            print("{" + fields.joined(separator: ",") + "}")
        } else {
            var line = "    \(name) = \(value.map(number) ?? "not measured") \(unit)"
            if let target, let met { line += " (target \(target.text): \(met ? "met" : "NOT met"))" }
            if let note { line += " — \(note)" }
            print(line)
        }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4g", value)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
