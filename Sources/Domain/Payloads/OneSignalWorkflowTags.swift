// The payloads of a HubSpot "Edit OneSignal tags" workflow action's outcome (`hubsignal.onesignal.tags_edited`,
// `hubsignal.onesignal.tags_edit_failed`).

/// `hubsignal.onesignal.tags_edited`: OneSignal applied the tags an edit-tags workflow action gave to one user of one app.
public struct OneSignalTagsEdited: EventPayload {
    public static let eventType = EventType.oneSignalTagsEdited

    /// HubSpot's callback id of the workflow action (`callbackId`).
    public var callbackID: String
    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The HubSpot contact the action ran for (`hubspotObjectId`).
    public var hubSpotObjectID: String
    /// The external id of the OneSignal user whose tags changed (`externalId`).
    public var externalID: String
    /// Tag → value sent; `null` removed the tag (`tags`).
    public var tags: [String: JSONValue]

    public init(callbackID: String, app: String, hubSpotObjectID: String, externalID: String, tags: [String: JSONValue]) {
        self.callbackID = callbackID
        self.app = app
        self.hubSpotObjectID = hubSpotObjectID
        self.externalID = externalID
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", app, hubSpotObjectID = "hubspotObjectId", externalID = "externalId", tags
    }
}

/// `hubsignal.onesignal.tags_edit_failed`: an edit-tags workflow action changed nothing, for good (no OneSignal user
/// matches the contact, or OneSignal refused the tags); HubSpot is told `FAIL_CONTINUE` with `reason`.
public struct OneSignalTagsEditFailed: EventPayload {
    public static let eventType = EventType.oneSignalTagsEditFailed

    /// HubSpot's callback id of the workflow action (`callbackId`).
    public var callbackID: String
    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The HubSpot contact the action ran for (`hubspotObjectId`).
    public var hubSpotObjectID: String
    /// The external id of the user the tags were for, when one was found (`externalId`, absent otherwise).
    public var externalID: String?
    /// Why (`reason`).
    public var reason: String

    public init(callbackID: String, app: String, hubSpotObjectID: String, externalID: String? = nil, reason: String) {
        self.callbackID = callbackID
        self.app = app
        self.hubSpotObjectID = hubSpotObjectID
        self.externalID = externalID
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", app, hubSpotObjectID = "hubspotObjectId", externalID = "externalId", reason
    }
}
