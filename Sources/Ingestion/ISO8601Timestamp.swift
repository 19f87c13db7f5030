import Foundation

/// Parses and formats ISO 8601 timestamps as Segment's libraries send them: `2026-11-23T16:04:47Z`,
/// `…47.123Z`, `…47.123456+00:00`, `…47-0500`, with any number of fractional digits.
public enum ISO8601Timestamp {
    /// Parses a timestamp; `nil` when it is not ISO 8601 with a time and a zone.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<count {
                let digit = Int(bytes[index]) - 48
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
                index += 1
            }
            return value
        }
        func take(_ character: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == character else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), take(UInt8(ascii: "-")), let month = digits(2), take(UInt8(ascii: "-")),
            let day = digits(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        guard take(UInt8(ascii: "T")) || take(UInt8(ascii: "t")) || take(UInt8(ascii: " ")) else { return nil }
        guard let hour = digits(2), take(UInt8(ascii: ":")), let minute = digits(2), hour < 24, minute < 60 else { return nil }
        var second = 0
        var fraction = 0.0
        if take(UInt8(ascii: ":")) {
            guard let value = digits(2), value <= 60 else { return nil }
            second = value
            if take(UInt8(ascii: ".")) || take(UInt8(ascii: ",")) {
                var scale = 0.1
                var any = false
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    fraction += Double(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                    any = true
                }
                guard any else { return nil }
            }
        }
        var offset = 0
        if take(UInt8(ascii: "Z")) || take(UInt8(ascii: "z")) {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
            index += 1
            guard let hours = digits(2) else { return nil }
            _ = take(UInt8(ascii: ":"))
            let minutes = digits(2) ?? 0
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// The earliest instant an event may carry: 0001-01-01T00:00:00Z.
    public static let earliest = Date(timeIntervalSince1970: Double(daysFromCivil(year: 1, month: 1, day: 1) * 86_400))
    /// The latest instant an event may carry: 9999-12-31T23:59:59.999Z.
    public static let latest = Date(timeIntervalSince1970: Double(daysFromCivil(year: 10_000, month: 1, day: 1) * 86_400) - 0.001)

    /// Whether `date` lies between the years 1 and 9999: what `format(_:)` writes (four-digit years) and what is
    /// stored. Dates a client computes from numbers (epoch values, clock-skew corrections) can lie far outside, or
    /// be NaN.
    public static func isStorable(_ date: Date) -> Bool {
        // On the raw seconds: `Date`'s derived `>=` and `<=` hold for NaN.
        let seconds = date.timeIntervalSince1970
        return seconds >= earliest.timeIntervalSince1970 && seconds <= latest.timeIntervalSince1970
    }

    /// Formats a date as `2026-11-23T16:04:47.123Z` (UTC, milliseconds), as Segment does for `receivedAt`.
    ///
    /// > Note: A date that is not storable (``isStorable(_:)``) is written as the nearest storable one (NaN as the
    /// > earliest), so that a client's value converted elsewhere (say, a trait mapped as a date) can never crash this.
    public static func format(_ date: Date) -> String {
        let interval = date.timeIntervalSince1970
        let clamped =
            interval.isNaN ? earliest.timeIntervalSince1970 : min(max(interval, earliest.timeIntervalSince1970), latest.timeIntervalSince1970)
        let milliseconds = Int64((clamped * 1000).rounded(.down))
        // Floor division: before 1970 the remainder is negative (1969-12-31T23:59:59.500Z is -500 ms).
        let (quotient, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let seconds = Int(remainder < 0 ? quotient - 1 : quotient)
        let millis = Int(remainder < 0 ? remainder + 1000 : remainder)
        let (days, secondsOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let adjustedDays = secondsOfDay < 0 ? days - 1 : days
        let daySeconds = secondsOfDay < 0 ? secondsOfDay + 86_400 : secondsOfDay
        let (year, month, day) = civilFromDays(adjustedDays)
        // Formatted by hand: this runs for every ingested message.
        var text = [UInt8]()
        text.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var remaining = value
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(remaining / divisor % 10))
                remaining %= divisor
                divisor /= 10
            }
        }
        digits(year, 4); text.append(UInt8(ascii: "-")); digits(month, 2); text.append(UInt8(ascii: "-")); digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(daySeconds / 3600, 2); text.append(UInt8(ascii: ":")); digits(daySeconds % 3600 / 60, 2)
        text.append(UInt8(ascii: ":")); digits(daySeconds % 60, 2); text.append(UInt8(ascii: ".")); digits(millis, 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days-from-civil).
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01, as (year, month, day).
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
