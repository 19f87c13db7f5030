// The payloads of `hubsignal.hubspot.*`: what HubSpot answered HubSignal.

/// A kind of HubSpot record whose pushes HubSignal records: a contact or a company.
public protocol HubSpotSyncedRecord: Sendable {
    /// The type of the events recording a push of this kind.
    static var eventType: EventType { get }
    /// The payload member holding HubSignal's id of the record.
    static var idMember: String { get }
}

/// A contact, named by HubSignal's contact id (`contactId`).
public enum SyncedContact: HubSpotSyncedRecord {
    public static let eventType = EventType.hubSpotContactSynced
    public static let idMember = "contactId"
}

/// A company, named by its Segment group id (`groupId`).
public enum SyncedCompany: HubSpotSyncedRecord {
    public static let eventType = EventType.hubSpotCompanySynced
    public static let idMember = "groupId"
}

/// `hubsignal.hubspot.contact_synced`: HubSpot created or updated a contact.
public typealias HubSpotContactSynced = HubSpotRecordSynced<SyncedContact>
/// `hubsignal.hubspot.company_synced`: HubSpot created or updated a company.
public typealias HubSpotCompanySynced = HubSpotRecordSynced<SyncedCompany>

/// HubSpot created or updated a contact or a company (``HubSpotContactSynced``, ``HubSpotCompanySynced``).
public struct HubSpotRecordSynced<Record: HubSpotSyncedRecord>: EventPayload {
    public static var eventType: EventType { Record.eventType }

    /// HubSignal's id of the record: the contact id (`contactId`) or the company's group id (`groupId`).
    public var id: String
    /// HubSpot's id of the record (`hubspotId`).
    public var hubSpotID: String
    /// Every property value HubSpot holds from HubSignal after this push (`properties`). HubSignal always writes it;
    /// `nil` when decoded from an event without it, which leaves what the projection knows as acknowledged unchanged.
    public var properties: [String: JSONValue]?
    /// The names of the properties this push sent, sorted (`sent`; decodes to `[]` when absent).
    public var sent: [String]
    /// Whether HubSpot created the record (`created`; decodes to `false` when absent).
    public var created: Bool
    /// Source key → why it was not sent (`dropped`; written only when not empty).
    public var dropped: [String: String]

    public init(
        id: String, hubSpotID: String, properties: [String: JSONValue], sent: [String], created: Bool,
        dropped: [String: String] = [:]
    ) {
        self.id = id
        self.hubSpotID = hubSpotID
        self.properties = properties
        self.sent = sent
        self.created = created
        self.dropped = dropped
    }

    /// The payload's members; the id's name depends on `Record`.
    struct Member: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }

        static var id: Member { Member(stringValue: Record.idMember) }
        static var hubSpotID: Member { Member(stringValue: "hubspotId") }
        static var properties: Member { Member(stringValue: "properties") }
        static var sent: Member { Member(stringValue: "sent") }
        static var created: Member { Member(stringValue: "created") }
        static var dropped: Member { Member(stringValue: "dropped") }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Member.self)
        id = try container.decode(String.self, forKey: .id)
        hubSpotID = try container.decode(String.self, forKey: .hubSpotID)
        properties = try container.decodeIfPresent([String: JSONValue].self, forKey: .properties)
        sent = try container.decode([String].self, forKey: .sent, default: [])
        created = try container.decode(Bool.self, forKey: .created, default: false)
        dropped = try container.decode([String: String].self, forKey: .dropped, default: [:])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Member.self)
        try container.encode(id, forKey: .id)
        try container.encode(hubSpotID, forKey: .hubSpotID)
        try container.encodeIfPresent(properties, forKey: .properties)
        try container.encode(sent, forKey: .sent)
        try container.encode(created, forKey: .created)
        if !dropped.isEmpty { try container.encode(dropped, forKey: .dropped) }
    }
}

/// `hubsignal.hubspot.association_synced`: HubSpot associated a contact with a company.
public struct HubSpotAssociationSynced: EventPayload {
    public static let eventType = EventType.hubSpotAssociationSynced

    /// HubSignal's contact id (`contactId`).
    public var contactID: String
    /// HubSignal's company id (`companyId`; decodes to `""` when absent).
    public var companyID: String
    /// The company's Segment group id (`groupId`).
    public var groupID: String
    /// HubSpot's id of the contact (`hubspotContactId`; decodes to `""` when absent).
    public var hubSpotContactID: String
    /// HubSpot's id of the company (`hubspotCompanyId`; decodes to `""` when absent).
    public var hubSpotCompanyID: String

    public init(contactID: String, companyID: String, groupID: String, hubSpotContactID: String, hubSpotCompanyID: String) {
        self.contactID = contactID
        self.companyID = companyID
        self.groupID = groupID
        self.hubSpotContactID = hubSpotContactID
        self.hubSpotCompanyID = hubSpotCompanyID
    }

    enum CodingKeys: String, CodingKey {
        case contactID = "contactId", companyID = "companyId", groupID = "groupId", hubSpotContactID = "hubspotContactId"
        case hubSpotCompanyID = "hubspotCompanyId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        contactID = try container.decode(String.self, forKey: .contactID)
        companyID = try container.decode(String.self, forKey: .companyID, default: "")
        groupID = try container.decode(String.self, forKey: .groupID)
        hubSpotContactID = try container.decode(String.self, forKey: .hubSpotContactID, default: "")
        hubSpotCompanyID = try container.decode(String.self, forKey: .hubSpotCompanyID, default: "")
    }
}

/// `hubsignal.hubspot.object_synced`: HubSpot created or updated a custom object record for a mapping rule.
public struct HubSpotObjectSynced: EventPayload {
    public static let eventType = EventType.hubSpotObjectSynced

    /// The record another record was associated with.
    public struct Association: Codable, Sendable, Hashable {
        /// The other record's object type (`objectType`).
        public var objectType: String
        /// HubSpot's id of the other record (`hubspotId`).
        public var hubSpotID: String
        /// The association label (`label`; written as `null` for the default association).
        public var label: String?

        public init(objectType: String, hubSpotID: String, label: String?) {
            self.objectType = objectType
            self.hubSpotID = hubSpotID
            self.label = label
        }

        enum CodingKeys: String, CodingKey {
            case objectType, hubSpotID = "hubspotId", label
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(objectType, forKey: .objectType)
            try container.encode(hubSpotID, forKey: .hubSpotID)
            try container.encode(label, forKey: .label)
        }
    }

    /// The log position of the event the record came from (`position`).
    public var position: Int64
    /// The mapping rule's name (`rule`).
    public var rule: String
    /// The custom object type (`objectType`).
    public var objectType: String
    /// HubSpot's id of the record (`hubspotId`).
    public var hubSpotID: String
    /// Whether HubSpot created the record (`created`).
    public var created: Bool
    /// The names of the properties sent, sorted (`properties`).
    public var properties: [String]
    /// The search property → value the record was looked up by (`search`).
    public var search: [String: String]
    /// `search` as one text, the key HubSignal finds the record by next time (`searchKey`).
    public var searchKey: String
    /// HubSignal's contact id when the event named a contact (`contactId`).
    public var contactID: String?
    /// The association written with the record, if any (`associatedWith`).
    public var associatedWith: Association?

    public init(
        position: Int64, rule: String, objectType: String, hubSpotID: String, created: Bool, properties: [String],
        search: [String: String], searchKey: String, contactID: String?, associatedWith: Association?
    ) {
        self.position = position
        self.rule = rule
        self.objectType = objectType
        self.hubSpotID = hubSpotID
        self.created = created
        self.properties = properties
        self.search = search
        self.searchKey = searchKey
        self.contactID = contactID
        self.associatedWith = associatedWith
    }

    enum CodingKeys: String, CodingKey {
        case position, rule, objectType, hubSpotID = "hubspotId", created, properties, search, searchKey
        case contactID = "contactId", associatedWith
    }
}

/// `hubsignal.hubspot.delivery_failed`: HubSpot refused a contact or company push for good.
public struct HubSpotDeliveryFailed: EventPayload {
    public static let eventType = EventType.hubSpotDeliveryFailed

    /// What was pushed.
    public enum Subject: Sendable, Hashable {
        /// A contact (`contactId`).
        case contact(id: String)
        /// A company (`groupId`).
        case company(groupID: String)
    }

    public var subject: Subject
    /// HubSpot's reason, or why HubSignal gave up (`reason`; decodes to `"unknown"` when absent).
    public var reason: String
    /// The names of the properties the push carried, sorted (`properties`; decodes to `[]` when absent).
    public var properties: [String]

    public init(subject: Subject, reason: String, properties: [String]) {
        self.subject = subject
        self.reason = reason
        self.properties = properties
    }

    enum CodingKeys: String, CodingKey {
        case contactID = "contactId", groupID = "groupId", reason, properties
    }

    /// A contact when `contactId` is present, else a company by `groupId`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if container.contains(.contactID) {
            subject = .contact(id: try container.decode(String.self, forKey: .contactID))
        } else {
            subject = .company(groupID: try container.decode(String.self, forKey: .groupID))
        }
        reason = try container.decode(String.self, forKey: .reason, default: "unknown")
        properties = try container.decode([String].self, forKey: .properties, default: [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch subject {
        case .contact(let id): try container.encode(id, forKey: .contactID)
        case .company(let groupID): try container.encode(groupID, forKey: .groupID)
        }
        try container.encode(reason, forKey: .reason)
        try container.encode(properties, forKey: .properties)
    }
}

/// `hubsignal.hubspot.event_failed`: HubSpot refused a behavioral event, a timeline event or a custom object record
/// for good.
public struct HubSpotEventFailed: EventPayload {
    public static let eventType = EventType.hubSpotEventFailed

    /// What was refused.
    public enum Subject: Sendable, Hashable {
        /// A behavioral or timeline event (`eventName`).
        case event(name: String)
        /// A custom object record of a mapping rule (`rule`, `objectType`).
        case customObject(rule: String, objectType: String)
    }

    /// The log position of the event it came from (`position`).
    public var position: Int64
    public var subject: Subject
    /// HubSpot's reason, or why HubSignal gave up (`reason`).
    public var reason: String
    /// HubSignal's contact id when the event named a contact (`contactId`).
    public var contactID: String?

    public init(position: Int64, subject: Subject, reason: String, contactID: String?) {
        self.position = position
        self.subject = subject
        self.reason = reason
        self.contactID = contactID
    }

    enum CodingKeys: String, CodingKey {
        case position, eventName, rule, objectType, reason, contactID = "contactId"
    }

    /// A custom object record when `rule` is present, else an event by `eventName`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        position = try container.decode(Int64.self, forKey: .position)
        if container.contains(.rule) {
            subject = .customObject(
                rule: try container.decode(String.self, forKey: .rule), objectType: try container.decode(String.self, forKey: .objectType))
        } else {
            subject = .event(name: try container.decode(String.self, forKey: .eventName))
        }
        reason = try container.decode(String.self, forKey: .reason)
        contactID = try container.decodeIfPresent(String.self, forKey: .contactID)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(position, forKey: .position)
        switch subject {
        case .event(let name):
            try container.encode(name, forKey: .eventName)
        case .customObject(let rule, let objectType):
            try container.encode(rule, forKey: .rule)
            try container.encode(objectType, forKey: .objectType)
        }
        try container.encode(reason, forKey: .reason)
        try container.encodeIfPresent(contactID, forKey: .contactID)
    }
}

/// `hubsignal.hubspot.action_completed`: a workflow action's outcome was reported to HubSpot's callback.
public struct HubSpotActionCompleted: EventPayload {
    public static let eventType = EventType.hubSpotActionCompleted

    /// HubSpot's callback id of the action (`callbackId`).
    public var callbackID: String
    /// The output fields sent to HubSpot (`outputFields`: `hs_execution_state`, `notification_id`, …).
    public var outputFields: [String: String]

    public init(callbackID: String, outputFields: [String: String]) {
        self.callbackID = callbackID
        self.outputFields = outputFields
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", outputFields
    }
}

/// `hubsignal.hubspot.action_completion_failed`: a workflow action's outcome could not be reported to HubSpot.
public struct HubSpotActionCompletionFailed: EventPayload {
    public static let eventType = EventType.hubSpotActionCompletionFailed

    /// HubSpot's callback id of the action (`callbackId`).
    public var callbackID: String
    /// Why (`reason`).
    public var reason: String
    /// Whether HubSignal gave up because HubSpot no longer waits for the action (`expired: true`, absent otherwise).
    public var isExpired: Bool

    public init(callbackID: String, reason: String, isExpired: Bool = false) {
        self.callbackID = callbackID
        self.reason = reason
        self.isExpired = isExpired
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", reason, expired
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callbackID = try container.decode(String.self, forKey: .callbackID)
        reason = try container.decode(String.self, forKey: .reason)
        isExpired = try container.decode(Bool.self, forKey: .expired, default: false)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callbackID, forKey: .callbackID)
        try container.encode(reason, forKey: .reason)
        try container.encode(flag: isExpired, forKey: .expired)
    }
}
