/// A point in time as milliseconds since the Unix epoch (UTC): cheap to store, compare and format.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }

    /// This time plus `milliseconds`.
    public func adding(milliseconds: Int64) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: millisecondsSinceEpoch + milliseconds)
    }

    /// The start of the minute this time falls in, as minutes since the epoch.
    public var epochMinute: Int64 { millisecondsSinceEpoch >= 0 ? millisecondsSinceEpoch / 60_000 : (millisecondsSinceEpoch - 59_999) / 60_000 }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-21T10:00:00.123Z`.
    public var description: String { iso8601 }

    /// RFC 3339 in UTC with milliseconds.
    public var iso8601: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendISO8601(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `iso8601` as UTF-8 without building a `String` (JSON writers call this per timestamp).
    public func appendISO8601(to out: inout [UInt8]) {
        let ms = millisecondsSinceEpoch
        var days = ms >= 0 ? ms / 86_400_000 : (ms - 86_399_999) / 86_400_000
        let msOfDay = ms - days * 86_400_000
        // Civil-from-days (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        var year = yearOfEra + era * 400
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        Self.append(year, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(month, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        Self.append(day, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        Self.append(msOfDay / 3_600_000, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(msOfDay / 60_000 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        Self.append(msOfDay / 1000 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "."))
        Self.append(msOfDay % 1000, width: 3, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    /// `String(value)` left-padded with zeros to `width` characters.
    private static func append(_ value: Int64, width: Int, to out: inout [UInt8]) {
        if value >= 0 && value < 10_000 {
            // The common case (every field of years 0…9999) without a String.
            let digits = value < 10 ? 1 : value < 100 ? 2 : value < 1000 ? 3 : 4
            for _ in digits..<max(width, digits) { out.append(UInt8(ascii: "0")) }
            var divisor: Int64 = digits == 1 ? 1 : digits == 2 ? 10 : digits == 3 ? 100 : 1000
            while divisor > 0 {
                out.append(UInt8(truncatingIfNeeded: value / divisor % 10) &+ UInt8(ascii: "0"))
                divisor /= 10
            }
            return
        }
        let text = Array(String(value).utf8)
        for _ in text.count..<max(width, text.count) { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: text)
    }
}

/// The source of the current time. Services take one so tests can move time deliberately.
public protocol WallClock: Sendable {
    /// The current time.
    func now() -> Timestamp
}
