import Foundation

/// A CRM property definition, as the properties API shows it.
public struct HubSpotProperty: Sendable, Equatable {
    /// A property's value type (`type` in the properties API).
    public enum ValueType: String, Sendable, CaseIterable {
        case bool, date, datetime, enumeration, number, string
        case phoneNumber = "phone_number"
    }

    /// One option of an enumeration (or bool) property.
    public struct Option: Sendable, Equatable {
        /// The label shown in HubSpot.
        public var label: String
        /// The value stored in objects.
        public var value: String
        /// Position in HubSpot's UI (-1: after the others).
        public var displayOrder: Int
        /// Whether HubSpot hides it in its UI.
        public var hidden: Bool
        /// A free description.
        public var description: String?

        /// An option; `value` is what objects store.
        public init(label: String, value: String, displayOrder: Int = 0, hidden: Bool = false, description: String? = nil) {
            self.label = label
            self.value = value
            self.displayOrder = displayOrder
            self.hidden = hidden
            self.description = description
        }
    }

    /// The field types the properties API accepts.
    public static let fieldTypes: Set<String> = [
        "booleancheckbox", "calculation_equation", "checkbox", "date", "file", "html", "number", "phonenumber", "radio",
        "select", "text", "textarea",
    ]

    /// Field types allowed with each value type.
    static let fieldTypesByType: [ValueType: Set<String>] = [
        .string: ["text", "textarea", "html", "file", "phonenumber", "calculation_equation", "select", "radio"],
        .number: ["number", "calculation_equation", "select", "radio", "text"],
        .bool: ["booleancheckbox", "calculation_equation", "checkbox", "radio", "select"],
        .enumeration: ["booleancheckbox", "checkbox", "radio", "select", "calculation_equation"],
        .date: ["date", "calculation_equation"],
        .datetime: ["date", "calculation_equation"],
        .phoneNumber: ["phonenumber", "text"],
    ]

    /// The internal name, `^[a-z][a-z0-9_]*$`.
    public var name: String
    /// The label shown in HubSpot.
    public var label: String
    /// The value type, which decides how values are checked.
    public var type: ValueType
    /// How HubSpot shows the field (`text`, `select`, `date`, …).
    public var fieldType: String
    /// The property group it belongs to.
    public var groupName: String
    /// A free description.
    public var description: String
    /// The allowed values of an enumeration (or the two of a bool).
    public var options: [Option]
    /// Position in HubSpot's UI (-1: after the others).
    public var displayOrder: Int
    /// Whether HubSpot hides it in its UI.
    public var hidden: Bool
    /// Whether it can be used in forms.
    public var formField: Bool
    /// Whether values are unique per object type (can only be set when the property is created).
    public var hasUniqueValue: Bool
    /// Whether HubSpot defines the property (it cannot be deleted).
    public var hubspotDefined: Bool
    /// Whether clients may not write values (e.g. `hs_object_id`, `createdate`).
    public var readOnlyValue: Bool
    /// When it was created.
    public var createdAt: Date
    /// When it was last changed.
    public var updatedAt: Date
    /// Whether it was archived.
    public var archived: Bool

    /// A property definition; `defineProperty` on ``HubSpotSandbox`` adds one.
    public init(
        name: String, label: String? = nil, type: ValueType, fieldType: String? = nil, groupName: String = "",
        description: String = "", options: [Option] = [], displayOrder: Int = -1, hidden: Bool = false,
        formField: Bool = false, hasUniqueValue: Bool = false, hubspotDefined: Bool = false, readOnlyValue: Bool = false,
        createdAt: Date = Date()
    ) {
        self.name = name
        self.label = label ?? name
        self.type = type
        self.fieldType = fieldType ?? HubSpotProperty.defaultFieldType(for: type)
        self.groupName = groupName
        self.description = description
        self.options = options
        self.displayOrder = displayOrder
        self.hidden = hidden
        self.formField = formField
        self.hasUniqueValue = hasUniqueValue
        self.hubspotDefined = hubspotDefined
        self.readOnlyValue = readOnlyValue
        self.createdAt = createdAt
        self.updatedAt = createdAt
        self.archived = false
    }

    /// The usual field type for a value type.
    public static func defaultFieldType(for type: ValueType) -> String {
        switch type {
        case .bool: "booleancheckbox"
        case .date, .datetime: "date"
        case .enumeration: "select"
        case .number: "number"
        case .string: "text"
        case .phoneNumber: "phonenumber"
        }
    }

    /// The definition as the properties API returns it.
    var json: JSON {
        var object: JSONObject = [
            "name": .string(name), "label": .string(label), "type": .string(type.rawValue),
            "fieldType": .string(fieldType), "description": .string(description), "groupName": .string(groupName),
            "options": .array(
                options.map { option in
                    var item: JSONObject = [
                        "label": .string(option.label), "value": .string(option.value),
                        "displayOrder": .int(option.displayOrder), "hidden": .bool(option.hidden),
                    ]
                    if let description = option.description { item["description"] = .string(description) }
                    return .object(item)
                }),
            "displayOrder": .int(displayOrder), "hidden": .bool(hidden), "formField": .bool(formField),
            "hasUniqueValue": .bool(hasUniqueValue), "hubspotDefined": .bool(hubspotDefined), "calculated": false,
            "externalOptions": false, "createdAt": .string(HubSpotTime.iso(createdAt)),
            "updatedAt": .string(HubSpotTime.iso(updatedAt)), "archived": .bool(archived),
        ]
        object["modificationMetadata"] = [
            "archivable": .bool(!hubspotDefined), "readOnlyDefinition": .bool(hubspotDefined),
            "readOnlyValue": .bool(readOnlyValue),
        ]
        return .object(object)
    }
}
