import Foundation

/// A stored CRM object (contact, company, note or custom object), as tests inspect it.
public struct HubSpotRecord: Sendable, Equatable {
    /// The object type's plural name, e.g. `contacts`.
    public let objectType: String
    /// The object's id (HubSpot ids are numeric strings).
    public let id: String
    /// Every stored property value, system properties (`hs_object_id`, `createdate`, …) included.
    public internal(set) var properties: [String: String]
    /// When the object was created.
    public let createdAt: Date
    /// When the object was last written.
    public internal(set) var updatedAt: Date
    /// Whether the object was archived (deleted).
    public internal(set) var archived: Bool
    /// When the object was archived.
    public internal(set) var archivedAt: Date?

    /// The value of one property.
    public subscript(property: String) -> String? {
        properties[property]
    }
}
