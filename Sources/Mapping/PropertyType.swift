import Domain
import Foundation
import Ingestion

/// A HubSpot property type, as far as converting Segment values goes (HubSpot's `enumeration` and `phone_number`
/// properties take `string` values).
public enum PropertyType: String, Sendable, CaseIterable {
    case string, number, bool, date, datetime
}

/// What happens to a contact trait that no rule maps and that is not a standard HubSpot contact property.
public enum UnknownTraitPolicy: String, Sendable, CaseIterable {
    /// Send it under the default conversion of its name when that property exists in the HubSpot account (as Segment's
    /// classic HubSpot destination does); the sync reads the account's properties and leaves out, reporting why in
    /// `sync_status.dropped`, the traits whose property does not exist. The default.
    case existing
    /// Leave it out, reported in `sync_status.dropped`.
    case drop
    /// Send it under the default conversion of its name; the sync creates the property (as `string`) first.
    case create
}

/// What the sync does when HubSpot keeps a later lifecycle stage than the one sent: HubSpot does not move
/// `lifecyclestage` backwards; an earlier stage is taken only after the value is cleared (docs/hubspot-sync.md).
public enum LifecycleBackwardsPolicy: String, Sendable, CaseIterable {
    /// Keep HubSpot's later stage and report the stage sent in `sync_status.dropped`. The default: a later stage is
    /// usually HubSpot's own doing (a deal won, a form), which a sync should not undo.
    case keep
    /// Clear the stage, then set the one sent (two more calls for that object).
    case clearAndSet = "clear_and_set"
}

/// One Segment value → one HubSpot property of a type.
public struct PropertyRule: Sendable, Equatable {
    /// The HubSpot property's internal name (`firstname`, `plan_tier`).
    public var property: String
    /// How values are converted; `string` unless the rule says otherwise.
    public var type: PropertyType

    /// A rule writing `property` as `type`.
    public init(property: String, type: PropertyType = .string) {
        self.property = property
        self.type = type
    }
}

/// HubSpot property values derived from Segment data, with what could not be used and why.
public struct PropertyValues: Sendable, Equatable {
    /// Property name → HubSpot's string form of the value; `nil` clears the property (HubSpot clears on `""`).
    public var values: [String: String?]
    /// Source key (trait key or dotted path) → why it was left out: it cannot be converted, it is a nested object, or
    /// it is unknown and dropped.
    public var skipped: [String: String]
    /// Properties that do not exist in a standard HubSpot account and that the sync creates before writing (only with
    /// `unknown_traits: create`).
    public var propertiesToCreate: [String: PropertyType]

    /// Values, skipped keys and properties to create.
    public init(values: [String: String?] = [:], skipped: [String: String] = [:], propertiesToCreate: [String: PropertyType] = [:]) {
        self.values = values
        self.skipped = skipped
        self.propertiesToCreate = propertiesToCreate
    }

    /// Sets `property` to `value`, keeping `nil` as an explicit "clear" (a plain subscript assignment of `nil` would
    /// remove the key).
    mutating func set(_ property: String, _ value: String?) {
        values.updateValue(value, forKey: property)
    }
}

// MARK: - Converting values

/// The result of converting one Segment value for a HubSpot property.
enum Conversion: Equatable {
    case value(String)
    /// Null or blank: clear the property.
    case clear
    case failure(String)
}

extension PropertyType {
    /// Converts a Segment value to HubSpot's string form for this type.
    ///
    /// - `string`: text as is, numbers in their shortest form, booleans `true`/`false`; a list of plain values is joined
    ///   with `;` (HubSpot's form for multiple checkboxes).
    /// - `number`: numbers, and text that reads as a number.
    /// - `bool`: booleans, `true`/`false`/`yes`/`no`/`1`/`0` as text, and the numbers 1 and 0.
    /// - `date`: `YYYY-MM-DD` (the UTC day). Accepts that form, ISO 8601 timestamps (their UTC day), and UNIX epoch
    ///   numbers (milliseconds when at least 10¹¹, else seconds).
    /// - `datetime`: ISO 8601 in UTC with milliseconds (`2026-11-01T10:00:00.000Z`). Accepts ISO 8601 timestamps with a
    ///   zone, `YYYY-MM-DD` (midnight UTC) and epoch numbers as for `date`.
    ///
    /// `null` and blank text clear the property whatever the type.
    func convert(_ value: JSONValue) -> Conversion {
        if value.isNull { return .clear }
        if case .string(let text) = value, Names.isBlank(text) { return .clear }
        switch self {
        case .string:
            if let text = value.scalarText { return .value(text) }
            if case .array(let items) = value {
                var texts: [String] = []
                for item in items {
                    guard let text = item.scalarText else { return .failure("a list holding nested values; HubSpot takes one value") }
                    texts.append(text)
                }
                return .value(texts.joined(separator: ";"))
            }
            return .failure("a nested object; map its fields with dotted rules such as 'address.city'")
        case .number:
            switch value {
            case .int(let number): return .value(String(number))
            case .double(let number) where number.isFinite: return .value(JSONValue.double(number).scalarText ?? "")
            case .string(let text):
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if let integer = Int64(trimmed) { return .value(String(integer)) }
                if let number = Double(trimmed), number.isFinite, !trimmed.lowercased().contains("n") {
                    return .value(JSONValue.double(number).scalarText ?? trimmed)
                }
                return .failure("'\(text)' is not a number")
            default: return .failure("\(value.kindDescription) is not a number")
            }
        case .bool:
            switch value {
            case .bool(let flag): return .value(flag ? "true" : "false")
            case .int(1): return .value("true")
            case .int(0): return .value("false")
            case .string(let text):
                switch text.trimmingCharacters(in: .whitespaces).lowercased() {
                case "true", "yes", "1": return .value("true")
                case "false", "no", "0": return .value("false")
                default: return .failure("'\(text)' is not a boolean (true/false)")
                }
            default: return .failure("\(value.kindDescription) is not a boolean (true/false)")
            }
        case .date:
            guard let day = DateConversion.utcDay(of: value) else {
                return .failure("\(value.kindDescription) is not a date; send YYYY-MM-DD or an ISO 8601 timestamp")
            }
            return .value(day)
        case .datetime:
            guard let date = DateConversion.instant(of: value) else {
                return .failure("\(value.kindDescription) is not a date and time; send an ISO 8601 timestamp with a zone")
            }
            return .value(ISO8601Timestamp.format(date))
        }
    }
}

enum DateConversion {
    /// `YYYY-MM-DD` of the UTC day of a date-like value.
    static func utcDay(of value: JSONValue) -> String? {
        if case .string(let text) = value, let day = calendarDay(text.trimmingCharacters(in: .whitespaces)) {
            return format(day)
        }
        guard let date = instant(of: value) else { return nil }
        let seconds = Int(floor(date.timeIntervalSince1970))
        return format(civil(fromDays: Int(floor(Double(seconds) / 86_400))))
    }

    /// The instant a date-like value stands for: ISO 8601 with a zone, `YYYY-MM-DD` (midnight UTC), or epoch numbers
    /// (milliseconds when |n| ≥ 10¹¹, else seconds), also as digit-only text.
    static func instant(of value: JSONValue) -> Date? {
        switch value {
        case .int(let number): return epoch(Double(number))
        case .double(let number) where number.isFinite: return epoch(number)
        case .string(let raw):
            let text = raw.trimmingCharacters(in: .whitespaces)
            if let day = calendarDay(text) {
                return Date(timeIntervalSince1970: Double(days(fromCivil: day)) * 86_400)
            }
            if let date = ISO8601Timestamp.parse(text) { return date }
            if !text.isEmpty, text.allSatisfy(\.isASCIIDigit), let number = Double(text) { return epoch(number) }
            return nil
        default: return nil
        }
    }

    private static func epoch(_ number: Double) -> Date {
        Date(timeIntervalSince1970: abs(number) >= 1e11 ? number / 1000 : number)
    }

    /// Parses exactly `YYYY-MM-DD` naming a real day.
    static func calendarDay(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let roundTrip = civil(fromDays: days(fromCivil: (year, month, day)))
        guard roundTrip == (year, month, day) else { return nil }
        return (year, month, day)
    }

    private static func format(_ day: (year: Int, month: Int, day: Int)) -> String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(day.year, 4))-\(pad(day.month, 2))-\(pad(day.day, 2))"
    }

    // The calendar arithmetic is ISO8601Timestamp's (Howard Hinnant's days-from-civil algorithms).
    static func days(fromCivil date: (year: Int, month: Int, day: Int)) -> Int {
        ISO8601Timestamp.daysFromCivil(year: date.year, month: date.month, day: date.day)
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let (year, month, day) = ISO8601Timestamp.civilFromDays(days)
        return (year, month, day)
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension JSONValue {
    /// Whether this is null or text with only whitespace.
    var isNullOrBlank: Bool {
        switch self {
        case .null: return true
        case .string(let text): return Names.isBlank(text)
        default: return false
        }
    }

    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return "the boolean \(flag)"
        case .int, .double: return "the number \(scalarText ?? "")"
        case .string(let text): return "'\(text)'"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    /// The value at a dotted path (`properties.order.id`); a key that itself contains dots is found before descending.
    func value(atPath path: String) -> JSONValue? {
        if let direct = self[path] { return direct }
        var remainder = Substring(path)
        var current = self
        while let dot = remainder.firstIndex(of: ".") {
            let head = String(remainder[..<dot])
            guard let next = current[head] else { return nil }
            current = next
            remainder = remainder[remainder.index(after: dot)...]
            if let direct = current[String(remainder)] { return direct }
        }
        return nil
    }
}
