import Foundation

/// The objects and property definitions of one object type.
struct ObjectStore: Sendable {
    let type: HubSpotObjectType
    /// Objects by numeric id (archived ones included).
    var records: [Int: HubSpotRecord] = [:]
    /// Property definitions by name (archived ones removed).
    var properties: [String: HubSpotProperty] = [:]
    /// Property names in creation order.
    var propertyOrder: [String] = []
    /// Property groups in creation order.
    var groups: [HubSpotPropertyGroup] = []

    init(type: HubSpotObjectType, properties: [HubSpotProperty], groups: [HubSpotPropertyGroup]) {
        self.type = type
        self.groups = groups
        for property in properties { define(property) }
    }

    /// Adds or replaces a property definition.
    mutating func define(_ property: HubSpotProperty) {
        if properties.updateValue(property, forKey: property.name) == nil {
            propertyOrder.append(property.name)
        }
    }

    /// Removes a property definition.
    mutating func remove(property name: String) {
        properties[name] = nil
        propertyOrder.removeAll { $0 == name }
    }

    /// Property definitions in creation order.
    var orderedProperties: [HubSpotProperty] {
        propertyOrder.compactMap { properties[$0] }
    }

    /// Live (not archived) objects, by ascending id.
    var liveRecords: [HubSpotRecord] {
        records.keys.sorted().compactMap { records[$0] }.filter { !$0.archived }
    }

    /// Whether values of `property` identify one object (email on contacts, `hasUniqueValue` properties).
    func isUnique(_ property: String) -> Bool {
        if type == .contacts && property == "email" { return true }
        return properties[property]?.hasUniqueValue == true
    }

    /// The live object whose `property` equals `value` (emails compared case-insensitively).
    func find(property: String, value: String) -> Int? {
        if property == "hs_object_id" {
            guard let id = Int(value), let record = records[id], !record.archived else { return nil }
            return id
        }
        let caseInsensitive = property == "email"
        let wanted = caseInsensitive ? value.lowercased() : value
        for (id, record) in records where !record.archived {
            guard let stored = record.properties[property] else { continue }
            if (caseInsensitive ? stored.lowercased() : stored) == wanted { return id }
        }
        return nil
    }

    /// The live object with this id.
    func live(_ id: Int) -> HubSpotRecord? {
        guard let record = records[id], !record.archived else { return nil }
        return record
    }
}
