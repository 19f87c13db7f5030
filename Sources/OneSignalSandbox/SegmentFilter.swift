import Domain
import Foundation

/// Evaluates segment and notification filters (§6) against a user: `tag` (with `=`, `!=`, `>`, `<`, `exists`,
/// `not_exists`, `in_array`, `not_in_array`), `language`, `country` and `email` (`=`: the user owning an email
/// subscription with that address; push notifications only). AND binds tighter than OR. Fields the sandbox does not
/// track (sessions, location, app version, …) match nobody.
enum SegmentFilter {
    /// Checks the shape of `filters` (§6): at most 200 entries, each a filter with `field` (and `key` for tags, and
    /// `relation`) or an operator, and neither first nor last an operator. Returns the problem, or `nil`.
    static func problem(in filters: [JSONValue], field: String = "filters") -> String? {
        if filters.count > 200 { return "\(field) is limited to 200 entries including operators" }
        for (index, entry) in filters.enumerated() {
            guard let object = entry.objectValue else { return "\(field)[\(index)] must be an object" }
            if object["operator"] != nil {
                if index == 0 || index == filters.count - 1 {
                    return "\(field)[\(index)]: a filter list cannot start or end with an operator"
                }
                continue
            }
            guard let name = object["field"]?.stringValue else { return "\(field)[\(index)].field is required" }
            if name == "tag", object["key"]?.stringValue == nil { return "\(field)[\(index)].key is required for tag filters" }
            guard let relation = object["relation"]?.stringValue else { return "\(field)[\(index)].relation is required" }
            if name == "email", relation != "=" { return "\(field)[\(index)]: the email filter takes only the relation =" }
            if !["exists", "not_exists"].contains(relation), object["value"] == nil, object["hours_ago"] == nil,
                !["location"].contains(name)
            {
                return "\(field)[\(index)].value is required for the relation \(relation)"
            }
        }
        return nil
    }

    /// Whether `user` matches `filters` (an empty list matches everybody).
    static func matches(_ filters: [JSONValue], user: OneSignalUser) -> Bool {
        var groups: [[JSONValue]] = [[]]
        for entry in filters {
            if entry["operator"]?.stringValue == "OR" {
                groups.append([])
            } else if entry["operator"] == nil {
                groups[groups.count - 1].append(entry)
            }
        }
        return groups.contains { group in group.allSatisfy { matches(filter: $0, user: user) } }
    }

    private static func matches(filter: JSONValue, user: OneSignalUser) -> Bool {
        guard let field = filter["field"]?.stringValue, let relation = filter["relation"]?.stringValue else { return false }
        let actual: String?
        switch field {
        case "tag":
            guard let key = filter["key"]?.stringValue else { return false }
            actual = user.tags[key]
        case "language", "country":
            actual = user.properties[field]?.stringValue
        case "email":
            // The user whose email subscription (the SDK's email method, or the API) has this address.
            let address = (filter["value"]?.stringValue ?? "").lowercased()
            return relation == "=" && user.subscriptions.contains { $0.type == "Email" && $0.token?.lowercased() == address }
        default:
            return false
        }
        let expected = filter["value"]?.stringValue ?? ""
        switch relation {
        case "exists": return actual != nil
        case "not_exists": return actual == nil
        case "=": return actual == expected
        case "!=": return actual != expected
        case ">", "<":
            guard let actual, let left = Double(actual), let right = Double(expected) else { return false }
            return relation == ">" ? left > right : left < right
        case "in_array", "not_in_array":
            let values = expected.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let contained = actual.map { values.contains($0) } ?? false
            return relation == "in_array" ? contained : !contained
        default:
            return false
        }
    }
}
