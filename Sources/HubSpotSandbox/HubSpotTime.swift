import Foundation

/// Timestamps as HubSpot writes and reads them.
enum HubSpotTime {
    private static let isoStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!)
    private static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// `2026-11-01T10:00:01.120Z`.
    static func iso(_ date: Date) -> String {
        date.formatted(isoStyle)
    }

    /// Milliseconds since 1970.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// Parses ISO 8601 (with or without fractional seconds, `Z` or an offset) or, when `allowMilliseconds`, a UNIX
    /// time in milliseconds.
    static func parse(_ text: String, allowMilliseconds: Bool = true) -> Date? {
        if allowMilliseconds, let ms = Int64(text) {
            return Date(timeIntervalSince1970: Double(ms) / 1000)
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) {
            return date
        }
        if let date = try? Date.ISO8601FormatStyle().parse(text) {
            return date
        }
        return nil
    }

    /// Parses `YYYY-MM-DD` as midnight UTC.
    static func parseDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: utcCalendar), let date = utcCalendar.date(from: components) else { return nil }
        return date
    }

    /// `YYYY-MM-DD` of `date` in UTC.
    static func day(_ date: Date) -> String {
        let parts = utcCalendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }
}
