// The payloads of `hubsignal.hubspot.event_definition_*` and `event_property_added`: what HubSignal learned about the
// portal's custom behavioral event definitions, recorded before an occurrence relies on it.

/// `hubsignal.hubspot.event_definition_recorded`: a custom behavioral event definition exists in HubSpot, because
/// HubSignal created it or found it in HubSpot's list. Recorded before the first occurrence of the event is sent, so a
/// restart or rebuild knows the definition without asking HubSpot (stream `hubspot:event-definitions`).
public struct HubSpotEventDefinitionRecorded: EventPayload {
    public static let eventType = EventType.hubSpotEventDefinitionRecorded

    /// The fully qualified name occurrences use, `pe<portal>_<name>` (`eventName`).
    public var eventName: String
    /// HubSpot's id of the definition, when its answer carried one (`definitionId`).
    public var definitionID: String?
    /// Property name → HubSpot property type (`string`, `number`, `datetime`, `enumeration`) of the custom properties
    /// the definition holds (`properties`; HubSpot's `hs_` defaults left out).
    public var properties: [String: String]
    /// Whether the definition was already in HubSpot (`existed: true`, absent when HubSignal created it).
    public var existed: Bool

    public init(eventName: String, definitionID: String?, properties: [String: String], existed: Bool) {
        self.eventName = eventName
        self.definitionID = definitionID
        self.properties = properties
        self.existed = existed
    }

    enum CodingKeys: String, CodingKey {
        case eventName, definitionID = "definitionId", properties, existed
    }

    /// `properties` decodes to `[:]` and `existed` to `false` when absent.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventName = try container.decode(String.self, forKey: .eventName)
        definitionID = try container.decodeIfPresent(String.self, forKey: .definitionID)
        properties = try container.decode([String: String].self, forKey: .properties, default: [:])
        existed = try container.decode(Bool.self, forKey: .existed, default: false)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventName, forKey: .eventName)
        try container.encodeIfPresent(definitionID, forKey: .definitionID)
        try container.encode(properties, forKey: .properties)
        try container.encode(flag: existed, forKey: .existed)
    }
}

/// `hubsignal.hubspot.event_property_added`: a property was added to a custom behavioral event definition (or found
/// on it: HubSpot answered that it exists), recorded before an occurrence carrying it is sent.
public struct HubSpotEventPropertyAdded: EventPayload {
    public static let eventType = EventType.hubSpotEventPropertyAdded

    /// The definition's fully qualified name, `pe<portal>_<name>` (`eventName`).
    public var eventName: String
    /// The property's name (`property`).
    public var property: String
    /// Its HubSpot type: `string`, `number`, `datetime` or `enumeration` (`type`).
    public var type: String

    public init(eventName: String, property: String, type: String) {
        self.eventName = eventName
        self.property = property
        self.type = type
    }
}

/// `hubsignal.hubspot.event_definition_refused`: HubSpot refused to create a behavioral event definition or to add a
/// property to one; the occurrences that need it become dead letters with this reason.
public struct HubSpotEventDefinitionRefused: EventPayload {
    public static let eventType = EventType.hubSpotEventDefinitionRefused

    /// The definition's fully qualified name, `pe<portal>_<name>` (`eventName`).
    public var eventName: String
    /// The property refused, when HubSpot refused adding one (`property`; absent when it refused the definition).
    public var property: String?
    /// HubSpot's reason (`reason`).
    public var reason: String

    public init(eventName: String, property: String?, reason: String) {
        self.eventName = eventName
        self.property = property
        self.reason = reason
    }
}
