import Foundation

/// The objects and property definitions of one object type.
struct ObjectStore: Sendable {
    let type: HubSpotObjectType
    /// Objects by numeric id (archived ones included). Change them through ``put(_:)`` and ``delete(_:)``, which
    /// keep ``uniqueIndex`` current.
    private(set) var records: [Int: HubSpotRecord] = [:]
    /// For each unique property: the live objects by value (emails lower-cased).
    private var uniqueIndex: [String: [String: Int]] = [:]
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
        reindex(property.name)
    }

    /// Removes a property definition.
    mutating func remove(property name: String) {
        properties[name] = nil
        propertyOrder.removeAll { $0 == name }
        uniqueIndex[name] = nil
    }

    /// Stores an object (new or changed), keeping the unique index current.
    mutating func put(_ record: HubSpotRecord) {
        let id = Int(record.id)!
        if let old = records[id] { unindex(old, id: id) }
        records[id] = record
        index(record, id: id)
    }

    /// Removes an object for good.
    mutating func delete(_ id: Int) {
        if let old = records[id] { unindex(old, id: id) }
        records[id] = nil
    }

    private func indexKey(_ property: String, _ value: String) -> String {
        property == "email" ? value.lowercased() : value
    }

    private mutating func index(_ record: HubSpotRecord, id: Int) {
        guard !record.archived else { return }
        for property in Array(uniqueIndex.keys) {
            if let value = record.properties[property] { uniqueIndex[property]![indexKey(property, value)] = id }
        }
    }

    private mutating func unindex(_ record: HubSpotRecord, id: Int) {
        for property in Array(uniqueIndex.keys) {
            guard let value = record.properties[property] else { continue }
            let key = indexKey(property, value)
            if uniqueIndex[property]![key] == id { uniqueIndex[property]![key] = nil }
        }
    }

    /// Rebuilds the index of one property (when it is, or stops being, unique).
    private mutating func reindex(_ property: String) {
        guard isUnique(property) else {
            uniqueIndex[property] = nil
            return
        }
        var values: [String: Int] = [:]
        for (id, record) in records where !record.archived {
            if let value = record.properties[property] { values[indexKey(property, value)] = id }
        }
        uniqueIndex[property] = values
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
        if let index = uniqueIndex[property] {
            return index[indexKey(property, value)]
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
