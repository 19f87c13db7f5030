import Foundation

/// A custom event definition (`/events/v3/event-definitions`), which occurrences sent to `/events/v3/send` refer to by
/// its fully qualified name.
public struct BehavioralEventDefinition: Sendable, Equatable {
    /// The internal name, e.g. `message_clicked`.
    public let name: String
    /// The label shown in HubSpot.
    public let label: String
    /// `pe{portalID}_{name}`, the `eventName` occurrences use.
    public let fullyQualifiedName: String
    /// `CONTACT`, `COMPANY`, …
    public let primaryObject: String
    /// The custom properties occurrences may carry (besides HubSpot's `hs_` defaults).
    public let propertyNames: [String]
    /// HubSpot's id of the definition.
    public let id: String
    /// When the definition was created.
    public let createdAt: Date

    /// A definition named `pe{portalID}_{name}`.
    public init(
        name: String, label: String, portalID: Int, primaryObject: String = "CONTACT", propertyNames: [String] = [],
        id: String, createdAt: Date = Date()
    ) {
        self.name = name
        self.label = label
        self.fullyQualifiedName = "pe\(portalID)_\(name)"
        self.primaryObject = primaryObject
        self.propertyNames = propertyNames
        self.id = id
        self.createdAt = createdAt
    }

    var json: JSON {
        [
            "labels": ["singular": .string(label), "plural": .string(label)], "name": .string(name),
            "fullyQualifiedName": .string(fullyQualifiedName), "id": .string(id), "primaryObject": .string(primaryObject),
            "trackingType": "MANUAL",
            "propertyDefinitions": .array(
                propertyNames.map { ["name": .string($0), "label": .string($0), "type": "string", "hubspotDefined": false] }),
            "createdAt": .string(HubSpotTime.iso(createdAt)), "archived": false,
        ]
    }
}
