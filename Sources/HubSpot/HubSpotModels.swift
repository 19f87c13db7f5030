import Foundation

/// One input of a batch upsert: the object identified by `id` in the unique property `idProperty` (`email` for
/// contacts; a unique custom property for companies), with the property values to write (`""` clears one).
public struct HubSpotUpsertInput: Sendable, Hashable, Encodable {
    public var id: String
    public var idProperty: String
    public var properties: [String: String]
    /// Names the input in the `context` of a per-input error. HubSpot may also echo it in the result; it need not.
    public var objectWriteTraceId: String?

    public init(id: String, idProperty: String, properties: [String: String], objectWriteTraceId: String? = nil) {
        self.id = id
        self.idProperty = idProperty
        self.properties = properties
        self.objectWriteTraceId = objectWriteTraceId
    }
}

/// A CRM object as HubSpot returns it (`SimplePublicObject`, `SimplePublicUpsertObject`).
public struct HubSpotObject: Sendable, Hashable, Decodable {
    /// HubSpot's object id (`hs_object_id`), read from a JSON string or number.
    public var id: String
    /// Property values as strings (`null` for unset ones HubSpot lists). A write's answer holds the properties written
    /// (and HubSpot's own, such as `hs_object_id`), not necessarily every property of the object.
    public var properties: [String: String?]
    /// For upserts: whether HubSpot created the object.
    public var new: Bool?
    /// The input's trace id, when HubSpot echoes it (optional in the spec: nothing may depend on it).
    public var objectWriteTraceId: String?

    public init(id: String, properties: [String: String?] = [:], new: Bool? = nil, objectWriteTraceId: String? = nil) {
        self.id = id
        self.properties = properties
        self.new = new
        self.objectWriteTraceId = objectWriteTraceId
    }

    private enum CodingKeys: String, CodingKey {
        case id, properties, new, objectWriteTraceId
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(HubSpotObjectID.self, forKey: .id).text
        properties = try container.decodeIfPresent([String: String?].self, forKey: .properties) ?? [:]
        new = try container.decodeIfPresent(Bool.self, forKey: .new)
        objectWriteTraceId = try container.decodeIfPresent(String.self, forKey: .objectWriteTraceId)
    }
}

/// One per-input problem of a batch answer (`StandardError`): a `207`, or a `200` that lists `errors` (the date-versioned
/// specs fold them into the `200`).
public struct HubSpotBatchError: Sendable, Hashable, Decodable {
    public var status: String?
    public var category: String?
    public var message: String?
    /// Which inputs it concerns, as HubSpot says (`ids`, `objectWriteTraceId`, `propertyName`, …).
    public var context: [String: [String]]?
}

/// The answer to a batch call: the objects written and the inputs HubSpot refused (`errors`, in any `2xx`).
public struct HubSpotBatchResult: Sendable, Hashable, Decodable {
    public var status: String?
    public var results: [HubSpotObject]
    public var errors: [HubSpotBatchError]?
    public var numErrors: Int?
}

/// A property definition as the Properties API lists it (the parts the sync needs).
public struct HubSpotProperty: Sendable, Hashable, Codable {
    public var name: String
    public var label: String
    /// `string`, `number`, `bool`, `date`, `datetime`, `enumeration`, `phone_number`.
    public var type: String
    /// `text`, `number`, `booleancheckbox`, `date`, `select`, …
    public var fieldType: String
    public var groupName: String
    public var hasUniqueValue: Bool?
    public var options: [Option]?

    /// One allowed value of an `enumeration` or `bool` property.
    public struct Option: Sendable, Hashable, Codable {
        public var label: String
        public var value: String
        public var displayOrder: Int?
        public var hidden: Bool?

        public init(label: String, value: String, displayOrder: Int? = nil, hidden: Bool? = false) {
            self.label = label
            self.value = value
            self.displayOrder = displayOrder
            self.hidden = hidden
        }
    }

    public init(
        name: String, label: String, type: String, fieldType: String, groupName: String, hasUniqueValue: Bool? = nil,
        options: [Option]? = nil
    ) {
        self.name = name
        self.label = label
        self.type = type
        self.fieldType = fieldType
        self.groupName = groupName
        self.hasUniqueValue = hasUniqueValue
        self.options = options
    }

    /// A HubSignal-created property of a type, with the field type HubSpot pairs with it (hubspot.md §3: `datetime`
    /// uses field type `date`; `bool` gets the Yes/No options).
    public static func created(name: String, type: String, groupName: String, hasUniqueValue: Bool? = nil) -> HubSpotProperty {
        let label = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        switch type {
        case "number":
            return HubSpotProperty(name: name, label: label, type: "number", fieldType: "number", groupName: groupName)
        case "bool":
            return HubSpotProperty(
                name: name, label: label, type: "bool", fieldType: "booleancheckbox", groupName: groupName,
                options: [Option(label: "Yes", value: "true", displayOrder: 0), Option(label: "No", value: "false", displayOrder: 1)])
        case "date", "datetime":
            return HubSpotProperty(name: name, label: label, type: type, fieldType: "date", groupName: groupName)
        default:
            return HubSpotProperty(
                name: name, label: label, type: "string", fieldType: "text", groupName: groupName, hasUniqueValue: hasUniqueValue)
        }
    }
}

/// A pair of objects to associate (HubSpot object ids).
public struct HubSpotAssociationPair: Sendable, Hashable {
    public var fromID: String
    public var toID: String

    public init(fromID: String, toID: String) {
        self.fromID = fromID
        self.toID = toID
    }
}

/// A HubSpot id as an answer carries it: the published specs type ids as strings, but some answers send numbers (the
/// associations v4 batch-create answer's `fromObjectId` / `toObjectId`; HubSpot's generated clients read v4 ids as
/// integers). Either decodes, to the id's decimal text; numbers up to `Int64` (ids pass 2³¹).
///
/// Every id HubSignal reads from HubSpot is read through it: object ids, association ids, action definition ids and
/// revisions.
public struct HubSpotObjectID: Sendable, Hashable, Decodable, CustomStringConvertible {
    public var text: String

    public init(_ text: String) { self.text = text }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int64.self) {
            text = String(number)
        } else {
            text = try container.decode(String.self)
        }
    }

    public var description: String { text }
}

/// A custom behavioral event occurrence (`/events/v3/send`).
public struct HubSpotEventOccurrence: Sendable, Hashable, Encodable {
    /// The fully qualified name, `pe{portalId}_{name}`.
    public var eventName: String
    public var email: String?
    public var objectId: String?
    /// ISO 8601.
    public var occurredAt: String?
    /// Idempotency key: HubSpot refuses a second occurrence with the same uuid.
    public var uuid: String?
    public var properties: [String: String]
    /// The visitor's HubSpot user token (the `hubspotutk` cookie); HubSpot ties the occurrence to that visitor.
    public var utk: String? = nil

    public init(
        eventName: String, email: String? = nil, objectId: String? = nil, occurredAt: String? = nil, uuid: String? = nil,
        properties: [String: String]
    ) {
        self.eventName = eventName
        self.email = email
        self.objectId = objectId
        self.occurredAt = occurredAt
        self.uuid = uuid
        self.properties = properties
    }
}
