/// `hubsignal.hubspot.properties_read`: the properties of one object type that exist in the HubSpot account, as HubSignal
/// read them from the Properties API (`GET /crm/v3/properties/{objectType}`), recorded before the sync relies on the
/// list to send a trait without a rule or to leave out a value HubSpot cannot take (stream
/// `hubspot:properties:<objectType>`). A list identical to the one last read is recorded once.
public struct HubSpotPropertiesRead: EventPayload {
    public static let eventType = EventType.hubSpotPropertiesRead

    /// One property definition: what the sync checks values against.
    public struct Definition: Codable, Sendable, Hashable {
        /// HubSpot's type: `string`, `number`, `bool`, `date`, `datetime`, `enumeration`, `phone_number` (`type`).
        public var type: String
        /// The field type (`select`, `checkbox`, `booleancheckbox`, …; `fieldType`): a `checkbox` takes several options
        /// separated by `;`.
        public var fieldType: String
        /// The allowed values of an `enumeration`, in HubSpot's display order (`options`; absent for other types).
        public var options: [String]?
        /// Whether the property has unique values (`hasUniqueValue`; written only when true): it can key upserts.
        public var unique: Bool

        public init(type: String, fieldType: String, options: [String]? = nil, unique: Bool = false) {
            self.type = type
            self.fieldType = fieldType
            self.options = options
            self.unique = unique
        }

        enum CodingKeys: String, CodingKey {
            case type, fieldType, options, unique = "hasUniqueValue"
        }

        /// `fieldType` decodes to `text` and `hasUniqueValue` to `false` when absent.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try container.decode(String.self, forKey: .type)
            fieldType = try container.decode(String.self, forKey: .fieldType, default: "text")
            options = try container.decodeIfPresent([String].self, forKey: .options)
            unique = try container.decode(Bool.self, forKey: .unique, default: false)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(type, forKey: .type)
            try container.encode(fieldType, forKey: .fieldType)
            try container.encodeIfPresent(options, forKey: .options)
            try container.encode(flag: unique, forKey: .unique)
        }
    }

    /// `contacts` or `companies` (`objectType`).
    public var objectType: String
    /// Property name → its definition (`properties`).
    public var properties: [String: Definition]

    public init(objectType: String, properties: [String: Definition]) {
        self.objectType = objectType
        self.properties = properties
    }
}
