import Foundation

/// A custom event definition (`/events/v3/event-definitions`), which occurrences sent to `/events/v3/send` refer to by
/// its fully qualified name.
public struct BehavioralEventDefinition: Sendable, Equatable {
    /// A custom property of the definition: its type and, for an enumeration, its option values.
    public struct Property: Sendable, Equatable {
        /// `string`, `number`, `datetime` or `enumeration` (EVDEF-v3's event property types).
        public let type: String
        /// The values an `enumeration` accepts; empty for the other types.
        public let options: [String]

        public init(type: String, options: [String] = []) {
            self.type = type
            self.options = options
        }
    }

    /// The internal name, e.g. `message_clicked`.
    public let name: String
    /// The label shown in HubSpot.
    public let label: String
    /// `pe{portalID}_{name}`, the `eventName` occurrences use.
    public let fullyQualifiedName: String
    /// `CONTACT`, `COMPANY`, …
    public let primaryObject: String
    /// The custom properties occurrences may carry (besides HubSpot's `hs_` defaults), by name.
    public internal(set) var properties: [String: Property]
    /// HubSpot's id of the definition.
    public let id: String
    /// When the definition was created.
    public let createdAt: Date

    /// The custom properties' names, sorted.
    public var propertyNames: [String] { properties.keys.sorted() }

    /// A definition named `pe{portalID}_{name}` with typed properties.
    public init(
        name: String, label: String, portalID: Int, primaryObject: String = "CONTACT", properties: [String: Property],
        id: String, createdAt: Date = Date()
    ) {
        self.name = name
        self.label = label
        self.fullyQualifiedName = "pe\(portalID)_\(name)"
        self.primaryObject = primaryObject
        self.properties = properties
        self.id = id
        self.createdAt = createdAt
    }

    /// A definition named `pe{portalID}_{name}` whose properties are all strings.
    public init(
        name: String, label: String, portalID: Int, primaryObject: String = "CONTACT", propertyNames: [String] = [],
        id: String, createdAt: Date = Date()
    ) {
        self.init(
            name: name, label: label, portalID: portalID, primaryObject: primaryObject,
            properties: Dictionary(propertyNames.map { ($0, Property(type: "string")) }, uniquingKeysWith: { first, _ in first }),
            id: id, createdAt: createdAt)
    }

    /// HubSpot's default properties of a contact event (with `includeDefaultProperties`), as the list answers them.
    static let defaultProperties = ["hs_asset_description", "hs_asset_type", "hs_browser", "hs_city", "hs_country", "hs_url"]

    /// `Property` (EVDEF-v3) of one custom property.
    static func propertyJSON(name: String, _ property: Property, createdAt: Date) -> JSON {
        [
            "name": .string(name), "label": .string(name), "type": .string(property.type),
            "fieldType": .string(property.type == "enumeration" ? "select" : property.type == "number" ? "number" : "text"),
            "groupName": "event_properties", "description": "", "hubspotDefined": false, "archived": false,
            "createdAt": .string(HubSpotTime.iso(createdAt)),
            "options": .array(
                property.options.enumerated().map { index, value in
                    ["label": .string(value), "value": .string(value), "displayOrder": .int(index), "hidden": false]
                }),
        ]
    }

    /// `ExternalBehavioralEventTypeDefinition` (EVDEF-v3); `properties` lists HubSpot's defaults and the custom ones
    /// when `includeProperties`, else is empty.
    func json(includeProperties: Bool = true) -> JSON {
        var propertyList: [JSON] = []
        if includeProperties {
            for name in Self.defaultProperties {
                propertyList.append([
                    "name": .string(name), "label": .string(name), "type": "string", "fieldType": "text",
                    "groupName": "event_properties", "description": "", "hubspotDefined": true, "options": [],
                ])
            }
            for name in propertyNames {
                propertyList.append(Self.propertyJSON(name: name, properties[name]!, createdAt: createdAt))
            }
        }
        return [
            "labels": ["singular": .string(label), "plural": .string(label)], "name": .string(name),
            "fullyQualifiedName": .string(fullyQualifiedName), "id": .string(id), "primaryObject": .string(primaryObject),
            "objectTypeId": .string(primaryObject == "CONTACT" ? "0-1" : primaryObject == "COMPANY" ? "0-2" : "0-5"),
            "trackingType": "MANUAL", "associations": [], "properties": .array(propertyList),
            "createdAt": .string(HubSpotTime.iso(createdAt)), "archived": false,
        ]
    }
}
