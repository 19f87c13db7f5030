/// A property group, as the properties API shows it.
public struct HubSpotPropertyGroup: Sendable, Equatable {
    /// The internal name.
    public var name: String
    /// The label shown in HubSpot.
    public var label: String
    /// Position in HubSpot's UI (-1: after the others).
    public var displayOrder: Int
    /// Whether it was archived.
    public var archived: Bool

    /// A group, as created through the properties API.
    public init(name: String, label: String, displayOrder: Int = -1) {
        self.name = name
        self.label = label
        self.displayOrder = displayOrder
        self.archived = false
    }

    var json: JSON {
        ["name": .string(name), "label": .string(label), "displayOrder": .int(displayOrder), "archived": .bool(archived)]
    }
}
