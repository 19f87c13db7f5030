// The payloads of HubSignal's admin operations.

/// `hubsignal.erasure`: a person was erased (opaque ids and counts only: no personal data).
public struct PersonErased: EventPayload {
    public static let eventType = EventType.erasure

    /// The erasure's id (`erasureId`; decodes to `""` when absent).
    public var erasureID: String
    /// HubSignal's ids of the person's contacts (`contactIds`).
    public var contactIDs: [String]
    /// How many events were redacted (`events`; decodes to `0` when absent).
    public var events: Int

    public init(erasureID: String, contactIDs: [String], events: Int) {
        self.erasureID = erasureID
        self.contactIDs = contactIDs
        self.events = events
    }

    enum CodingKeys: String, CodingKey {
        case erasureID = "erasureId", contactIDs = "contactIds", events
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        erasureID = try container.decode(String.self, forKey: .erasureID, default: "")
        contactIDs = try container.decode([String].self, forKey: .contactIDs)
        events = try container.decode(Int.self, forKey: .events, default: 0)
    }
}

/// `hubsignal.replay_requested`: an operator asked for contacts' values to be pushed again in full.
public struct ReplayRequested: EventPayload {
    public static let eventType = EventType.replayRequested

    /// Where to push again (`destination`).
    public var destination: Destination
    /// The OneSignal app, or `nil` for every app (`app`; OneSignal only, absent otherwise).
    public var app: String?
    /// HubSignal's ids of the contacts, at most 1,000 per event (`contactIds`).
    public var contactIDs: [String]
    /// Why (`reason`; decodes to `""` when absent).
    public var reason: String

    public init(destination: Destination, app: String? = nil, contactIDs: [String], reason: String) {
        self.destination = destination
        self.app = app
        self.contactIDs = contactIDs
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case destination, app, contactIDs = "contactIds", reason
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        destination = try container.decode(Destination.self, forKey: .destination)
        app = try container.decodeIfPresent(String.self, forKey: .app)
        contactIDs = try container.decode([String].self, forKey: .contactIDs)
        reason = try container.decode(String.self, forKey: .reason, default: "")
    }
}
