import Foundation

/// CRM search: `POST /crm/v3/objects/{type}/search`.
extension HubSpotState {
    /// Results one search can page through.
    static let searchResultCap = 10_000

    private struct Filter {
        var property: String
        var operation: String
        var value: String?
        var highValue: String?
        var values: [String]
    }

    private static let operators: Set<String> = [
        "EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
        "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN",
    ]

    /// `POST /crm/v3/objects/{type}/search` → `{total, results, paging}`.
    func search(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let schema = "PublicObjectSearchRequest"
        let body = try call.object(schema)
        let groups = try parseFilterGroups(body, type: type)
        let sorts = try parseSorts(body, type: type)
        let limit = try body.optionalInt("limit", schema) ?? 10
        guard (0...200).contains(limit) else {
            throw HubSpotError.validation("Invalid input: limit \(limit) is not between 0 and 200")
        }
        let afterText = try body.optionalID("after", schema) ?? "0"
        guard let after = Int(afterText), after >= 0 else {
            throw HubSpotError.validation("Invalid input: after \(afterText) is not a non-negative integer")
        }
        if after + limit > Self.searchResultCap {
            throw HubSpotError.validation(
                "Invalid input: paging past \(Self.searchResultCap) results is not allowed (after \(after) + limit \(limit))")
        }
        let query = try body.optionalString("query", schema)
        if let query, query.count > 3_000 {
            throw HubSpotError.validation("Invalid input: query is longer than 3000 characters")
        }
        let properties = try body.optionalStrings("properties", schema)
        let store = store(type)
        var found = searchableRecords(type: type, now: call.now).filter { record in
            (groups.isEmpty || groups.contains { group in group.allSatisfy { matches(record, $0, store: store) } })
                && (query.map { matchesQuery(record, $0, store: store) } ?? true)
        }
        if !sorts.isEmpty {
            found.sort { lhs, rhs in
                for (property, ascending) in sorts {
                    let left = lhs.properties[property].map { key(property, $0, store: store) }
                    let right = rhs.properties[property].map { key(property, $0, store: store) }
                    if left == right { continue }
                    guard let left else { return false }
                    guard let right else { return true }
                    return ascending ? left < right : left > right
                }
                return Int(lhs.id)! < Int(rhs.id)!
            }
        }
        let page = found.dropFirst(after).prefix(limit)
        var object: JSONObject = [
            "total": .int(found.count), "results": .array(page.map { json($0, properties: properties) }),
        ]
        let next = after + page.count
        if next < found.count && next < Self.searchResultCap && limit > 0 {
            object["paging"] = ["next": ["after": .string(String(next)), "link": .string("?after=\(next)")]]
        }
        return .json(.object(object))
    }

    private func parseFilterGroups(_ body: JSONObject, type: String) throws -> [[Filter]] {
        let groups = try body.optionalArray("filterGroups", "PublicObjectSearchRequest") ?? []
        guard groups.count <= 6 else {
            throw HubSpotError.validation("Invalid input: \(groups.count) filterGroups were sent; at most 6 are allowed")
        }
        var result: [[Filter]] = []
        var total = 0
        for group in groups {
            guard case .object(let groupObject) = group else {
                throw HubSpotError.validation("Invalid input JSON: filterGroups must be objects")
            }
            let filters = try groupObject.requiredObjects("filters", "FilterGroup")
            total += filters.count
            result.append(try filters.map { try parseFilter($0, type: type) })
        }
        guard total <= 18 else {
            throw HubSpotError.validation("Invalid input: \(total) filters were sent; at most 18 are allowed in all groups")
        }
        return result
    }

    private func parseFilter(_ object: JSONObject, type: String) throws -> Filter {
        let schema = "Filter"
        let property = try object.requiredString("propertyName", schema)
        let operation = try object.requiredString("operator", schema)
        guard Self.operators.contains(operation) else {
            throw HubSpotError.validation(
                "Invalid input: operator \(operation) is not one of \(Self.operators.sorted().joined(separator: ", "))")
        }
        guard store(type).properties[property] != nil else {
            throw HubSpotError.invalidProperties([.doesNotExist(property)], portalID: portalID)
        }
        func scalar(_ key: String) throws -> String? {
            guard let value = object[key], !value.isNull else { return nil }
            switch value {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .double(let number): return String(number)
            case .bool(let flag): return String(flag)
            default: throw HubSpotError.validation("Invalid input JSON: Filter.\(key) must be a string or a number")
            }
        }
        let value = try scalar("value")
        let highValue = try scalar("highValue")
        let values = try (object.optionalArray("values", schema) ?? []).map { item -> String in
            switch item {
            case .string(let text): return text
            case .int(let number): return String(number)
            case .double(let number): return String(number)
            default: throw HubSpotError.validation("Invalid input JSON: Filter.values must hold strings or numbers")
            }
        }
        switch operation {
        case "IN", "NOT_IN":
            guard !values.isEmpty else {
                throw HubSpotError.validation("Invalid input: operator \(operation) on \(property) needs values")
            }
        case "BETWEEN":
            guard value != nil, highValue != nil else {
                throw HubSpotError.validation("Invalid input: operator BETWEEN on \(property) needs value and highValue")
            }
        case "HAS_PROPERTY", "NOT_HAS_PROPERTY":
            break
        default:
            guard value != nil else {
                throw HubSpotError.validation("Invalid input: operator \(operation) on \(property) needs a value")
            }
        }
        return Filter(property: property, operation: operation, value: value, highValue: highValue, values: values)
    }

    private func parseSorts(_ body: JSONObject, type: String) throws -> [(String, Bool)] {
        let items = try body.optionalArray("sorts", "PublicObjectSearchRequest") ?? []
        return try items.map { item in
            let property: String
            var ascending = true
            switch item {
            case .string(let text):
                ascending = !text.hasPrefix("-")
                property = ascending ? text : String(text.dropFirst())
            case .object(let object):
                property = try object.requiredString("propertyName", "Sort")
                let direction = try object.optionalString("direction", "Sort") ?? "ASCENDING"
                guard direction == "ASCENDING" || direction == "DESCENDING" else {
                    throw HubSpotError.validation("Invalid input: sort direction \(direction) is not ASCENDING or DESCENDING")
                }
                ascending = direction == "ASCENDING"
            default:
                throw HubSpotError.validation("Invalid input JSON: sorts must hold strings or objects")
            }
            guard store(type).properties[property] != nil else {
                throw HubSpotError.invalidProperties([.doesNotExist(property)], portalID: portalID)
            }
            return (property, ascending)
        }
    }

    private func key(_ property: String, _ value: String, store: ObjectStore) -> SearchKey {
        store.properties[property]?.searchKey(value) ?? .text(value.lowercased())
    }

    private func matches(_ record: HubSpotRecord, _ filter: Filter, store: ObjectStore) -> Bool {
        let stored = record.properties[filter.property].flatMap { $0.isEmpty ? nil : $0 }
        switch filter.operation {
        case "HAS_PROPERTY": return stored != nil
        case "NOT_HAS_PROPERTY": return stored == nil
        default: break
        }
        let property = store.properties[filter.property]
        let isMulti = property?.fieldType == "checkbox" && property?.type == .enumeration
        func equal(_ wanted: String) -> Bool {
            guard let stored else { return false }
            if isMulti { return stored.lowercased().split(separator: ";").contains(Substring(wanted.lowercased())) }
            return key(filter.property, stored, store: store) == key(filter.property, wanted, store: store)
        }
        switch filter.operation {
        case "EQ": return equal(filter.value!)
        case "NEQ": return !equal(filter.value!)
        case "IN": return filter.values.contains(where: equal)
        case "NOT_IN": return !filter.values.contains(where: equal)
        case "CONTAINS_TOKEN": return stored.map { containsToken($0, filter.value!) } ?? false
        case "NOT_CONTAINS_TOKEN": return !(stored.map { containsToken($0, filter.value!) } ?? false)
        default: break
        }
        guard let stored else { return false }
        let left = key(filter.property, stored, store: store)
        let right = key(filter.property, filter.value!, store: store)
        switch filter.operation {
        case "LT": return left < right
        case "LTE": return left <= right
        case "GT": return left > right
        case "GTE": return left >= right
        case "BETWEEN": return left >= right && left <= key(filter.property, filter.highValue!, store: store)
        default: return false
        }
    }

    /// Whether a word of `value` matches `token` (`*` is a wildcard), case-insensitively.
    private func containsToken(_ value: String, _ token: String) -> Bool {
        let words = Self.words(value)
        let wanted = token.lowercased()
        if wanted.contains("*") {
            let parts = wanted.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
            let pattern = "^" + parts.map { NSRegularExpression.escapedPattern(for: $0) }.joined(separator: ".*") + "$"
            guard let regex = try? NSRegularExpression(pattern: pattern) else { return false }
            let whole = value.lowercased()
            return ([whole] + words).contains { regex.firstMatch(in: $0, range: NSRange($0.startIndex..., in: $0)) != nil }
        }
        return words.contains(wanted) || value.lowercased() == wanted
    }

    private static func words(_ value: String) -> [String] {
        value.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    /// The free-text `query`: every word must start a word of one of the type's text properties.
    private func matchesQuery(_ record: HubSpotRecord, _ query: String, store: ObjectStore) -> Bool {
        let wanted = Self.words(query)
        guard !wanted.isEmpty else { return true }
        let haystack = store.type.queryProperties.compactMap { record.properties[$0] }.flatMap(Self.words)
            + store.type.queryProperties.compactMap { record.properties[$0]?.lowercased() }
        return wanted.allSatisfy { word in haystack.contains { $0.hasPrefix(word) } }
    }
}
