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
        public var label: String
        public var value: String
        public var displayOrder: Int
        public var hidden: Bool
        public var description: String?

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

    public var name: String
    public var label: String
    public var type: ValueType
    public var fieldType: String
    public var groupName: String
    public var description: String
    public var options: [Option]
    public var displayOrder: Int
    public var hidden: Bool
    public var formField: Bool
    /// Whether values are unique per object type (can only be set when the property is created).
    public var hasUniqueValue: Bool
    /// Whether HubSpot defines the property (it cannot be deleted).
    public var hubspotDefined: Bool
    /// Whether clients may not write values (e.g. `hs_object_id`, `createdate`).
    public var readOnlyValue: Bool
    public var createdAt: Date
    public var updatedAt: Date
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
