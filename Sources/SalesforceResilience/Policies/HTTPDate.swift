import Foundation

/// HTTP-date parsing and formatting (RFC 9110 §5.6.7), without `DateFormatter`.
///
/// Parses the preferred IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete
/// forms recipients must accept: RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`).
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    /// The date `text` denotes, or `nil` if it is not an HTTP-date.
    public static func parse(_ text: String) -> Date? {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        switch tokens.count {
        case 6 where tokens[5] == "GMT":  // IMF-fixdate
            guard let day = Int(tokens[1]), let month = month(tokens[2]), let year = Int(tokens[3]), tokens[3].count == 4
            else { return nil }
            return make(year: year, month: month, day: day, time: tokens[4])
        case 4 where tokens[3] == "GMT":  // RFC 850
            let parts = tokens[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let day = Int(parts[0]), let month = month(parts[1]), let yy = Int(parts[2]), parts[2].count == 2
            else { return nil }
            return make(year: yy < 70 ? 2000 + yy : 1900 + yy, month: month, day: day, time: tokens[2])
        case 5:  // asctime
            guard let month = month(tokens[1]), let day = Int(tokens[2]), let year = Int(tokens[4]), tokens[4].count == 4
            else { return nil }
            return make(year: year, month: month, day: day, time: tokens[3])
        default:
            return nil
        }
    }

    /// `date` as an IMF-fixdate, the form servers send. The year always has four digits (more
    /// after 9999, a sign before year 0).
    public static func format(_ date: Date) -> String {
        let parts = components(of: date)
        let time = "\(digits(parts.hour, 2)):\(digits(parts.minute, 2)):\(digits(parts.second, 2))"
        return "\(weekdays[parts.weekday]), \(digits(parts.day, 2)) \(months[parts.month - 1].capitalized) \(digits(parts.year, 4)) \(time) GMT"
    }

    /// A date's fields in UTC on the proleptic Gregorian calendar; `weekday` indexes `Thu…Wed`.
    /// Dates beyond ±3 million years are taken as those limits rather than trapping.
    static func components(of date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int) {
        let limit = 1e14  // about 3 million years, far inside Int
        let raw = date.timeIntervalSince1970
        let seconds = Int(raw.isNaN ? 0 : min(limit, max(-limit, raw)).rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        return (year, month, day, secondOfDay / 3600, secondOfDay / 60 % 60, secondOfDay % 60, ((days % 7) + 7) % 7)
    }

    /// `n` with at least `width` digits, zero-padded, with a minus sign if negative.
    static func digits(_ n: Int, _ width: Int) -> String {
        let magnitude = String(n.magnitude)
        return (n < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - magnitude.count)) + magnitude
    }

    private static func month(_ name: String) -> Int? {
        months.firstIndex(of: name.lowercased()).map { $0 + 1 }
    }

    private static func make(year: Int, month: Int, day: Int, time: String) -> Date? {
        let parts = time.split(separator: ":").map { Int($0) }
        guard parts.count == 3, let hour = parts[0], let minute = parts[1], let second = parts[2],
              (0..<24).contains(hour), (0..<60).contains(minute), (0...60).contains(second),
              (1...31).contains(day), (1...9999).contains(year)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    // Howard Hinnant's days-from-civil algorithm: proleptic Gregorian calendar, day 0 = 1970-01-01.
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
