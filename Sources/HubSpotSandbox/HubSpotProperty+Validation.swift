import Foundation

extension HubSpotProperty {
    /// Checks a non-empty value against the property's type and returns the value to store (emails lower-cased,
    /// dates as `YYYY-MM-DD`, datetimes as ISO 8601 with milliseconds), or the problem HubSpot would report.
    func normalize(_ value: String) -> Result<String, PropertyProblem> {
        if name == "email" {
            guard HubSpotProperty.isValidEmail(value) else {
                return .failure(problem("INVALID_EMAIL", "Email address \(value) is invalid"))
            }
            return .success(value.lowercased())
        }
        switch type {
        case .string, .phoneNumber:
            guard value.utf8.count <= 65_536 else {
                return .failure(problem("INVALID_STRING", "value is longer than 65536 bytes"))
            }
            return .success(value)
        case .number:
            guard let number = Double(value), number.isFinite, !value.hasPrefix("+"),
                value.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" })
            else {
                return .failure(problem("INVALID_FLOAT", "\(value) was not a valid number."))
            }
            return .success(value)
        case .bool:
            guard value == "true" || value == "false" else {
                return .failure(problem("INVALID_BOOLEAN", "\(value) was not a valid boolean; expected true or false."))
            }
            return .success(value)
        case .enumeration:
            let allowed = Set(options.map(\.value))
            let chosen = fieldType == "checkbox" ? value.split(separator: ";").map(String.init) : [value]
            guard !chosen.isEmpty, chosen.allSatisfy(allowed.contains) else {
                let list = options.map(\.value).joined(separator: ", ")
                return .failure(problem("INVALID_OPTION", "\(value) was not one of the allowed options: [\(list)]"))
            }
            return .success(value)
        case .date:
            if let day = HubSpotTime.parseDay(value) {
                return .success(HubSpotTime.day(day))
            }
            guard let ms = Int64(value) else {
                return .failure(
                    problem("INVALID_DATE", "\(value) is not a valid date: use midnight UTC in milliseconds or YYYY-MM-DD"))
            }
            guard ms % 86_400_000 == 0 else {
                return .failure(
                    problem("INVALID_DATE", "\(value) is not at midnight UTC: date values must be midnight UTC in milliseconds"))
            }
            return .success(HubSpotTime.day(Date(timeIntervalSince1970: Double(ms) / 1000)))
        case .datetime:
            guard let date = HubSpotTime.parse(value) else {
                return .failure(
                    problem("INVALID_DATETIME", "\(value) is not a valid datetime: use milliseconds since 1970 or ISO 8601"))
            }
            return .success(HubSpotTime.iso(date))
        }
    }

    private func problem(_ code: String, _ message: String) -> PropertyProblem {
        PropertyProblem(name: name, error: code, message: message)
    }

    /// A pragmatic email check: one `@`, a non-empty local part, a dotted domain, no spaces.
    static func isValidEmail(_ value: String) -> Bool {
        let parts = value.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, value.count <= 254 else { return false }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty }) else { return false }
        return !value.contains(where: { $0.isWhitespace || $0 == "," || $0 == "<" || $0 == ">" })
    }

    /// A value made comparable for search: numbers, dates and datetimes as numbers, others as lower-cased text.
    func searchKey(_ value: String) -> SearchKey {
        switch type {
        case .number:
            return Double(value).map(SearchKey.number) ?? .text(value.lowercased())
        case .date, .datetime:
            if let date = HubSpotTime.parseDay(value) ?? HubSpotTime.parse(value) {
                return .number(Double(HubSpotTime.milliseconds(date)))
            }
            return .text(value.lowercased())
        default:
            return .text(value.lowercased())
        }
    }
}

/// A property value as search compares it.
enum SearchKey: Comparable {
    case number(Double)
    case text(String)
}
