/// A property group, as the properties API shows it.
public struct HubSpotPropertyGroup: Sendable, Equatable {
    public var name: String
    public var label: String
    public var displayOrder: Int
    public var archived: Bool

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
