/// The type of an event in the log, `<source>.<subject>.<verb>` (the `events.type` column).
///
/// Every type HubSignal reads or writes is named here once: the fixed ones as `static let`s, the open families (a
/// Segment call, a HubSpot webhook subscription, a workflow action, a OneSignal message event kind) through a
/// constructor and the matching accessor that reads the name back. Code elsewhere never spells a type as text.
public struct EventType: RawRepresentable, Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: EventType, rhs: EventType) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether the type starts with `family`'s prefix.
    public func belongs(to family: Family) -> Bool { rawValue.hasPrefix(family.prefix) }

    /// The rest of the type after `family`'s prefix, or `nil` when it is not of that family.
    public func name(in family: Family) -> String? {
        belongs(to: family) ? String(rawValue.dropFirst(family.prefix.count)) : nil
    }
}

// MARK: - Families

extension EventType {
    /// A group of types sharing a prefix, e.g. every Segment call. `prefix` is what SQL's `starts_with(type, …)` takes.
    public struct Family: Sendable, Hashable, CustomStringConvertible {
        /// The text every type of the family starts with, ending in a dot.
        public let prefix: String

        /// Segment calls: `segment.identify`, `segment.track`, …
        public static let segment = Family(prefix: "segment.")
        /// HubSpot webhook deliveries: `hubspot.webhook.<subscriptionType>`.
        public static let hubSpotWebhook = Family(prefix: "hubspot.webhook.")
        /// HubSpot webhook deliveries about contacts: `hubspot.webhook.contact.<change>`.
        public static let hubSpotContactWebhook = Family(prefix: "hubspot.webhook.contact.")
        /// HubSpot workflow action requests: `hubspot.action.<action>`.
        public static let hubSpotAction = Family(prefix: "hubspot.action.")
        /// OneSignal event-stream deliveries: `onesignal.<kind>`.
        public static let oneSignal = Family(prefix: "onesignal.")
        /// OneSignal message events: `onesignal.message.<channel>.<event>`.
        public static let oneSignalMessage = Family(prefix: "onesignal.message.")
        /// What HubSpot answered HubSignal: `hubsignal.hubspot.<result>`.
        public static let hubSpotResult = Family(prefix: "hubsignal.hubspot.")
        /// What OneSignal answered HubSignal: `hubsignal.onesignal.<result>`.
        public static let oneSignalResult = Family(prefix: "hubsignal.onesignal.")

        public var description: String { prefix }
    }

    /// A Segment call of the given type (`identify`, `track`, `page`, `screen`, `group`, `alias`).
    public static func segment(_ call: String) -> EventType { EventType(rawValue: Family.segment.prefix + call) }

    /// A HubSpot webhook delivery of the given subscription type, e.g. `contact.propertyChange`.
    public static func hubSpotWebhook(_ subscriptionType: String) -> EventType {
        EventType(rawValue: Family.hubSpotWebhook.prefix + subscriptionType)
    }

    /// A HubSpot workflow action request, e.g. `send_notification`.
    public static func hubSpotAction(_ action: String) -> EventType { EventType(rawValue: Family.hubSpotAction.prefix + action) }

    /// A OneSignal event-stream delivery of the given kind, e.g. `message.push.clicked`.
    public static func oneSignal(_ kind: String) -> EventType { EventType(rawValue: Family.oneSignal.prefix + kind) }

    /// The Segment call type (`identify`, …) when this is a Segment call.
    public var segmentCall: String? { name(in: .segment) }

    /// The HubSpot subscription type (`contact.merge`, …) when this is a webhook delivery.
    public var hubSpotSubscription: String? { name(in: .hubSpotWebhook) }

    /// The workflow action (`send_notification`, …) when this is an action request.
    public var hubSpotAction: String? { name(in: .hubSpotAction) }

    /// The OneSignal event kind (`message.push.clicked`, …) when this is an event-stream delivery.
    public var oneSignalKind: String? { name(in: .oneSignal) }
}

// MARK: - Segment calls

extension EventType {
    public static let identify = segment("identify")
    public static let track = segment("track")
    public static let page = segment("page")
    public static let screen = segment("screen")
    public static let group = segment("group")
    public static let alias = segment("alias")

    /// The six Segment calls.
    public static let segmentCalls: [EventType] = [.identify, .track, .page, .screen, .group, .alias]
}

// MARK: - HubSpot inbound

extension EventType {
    public static let hubSpotContactPropertyChange = hubSpotWebhook("contact.propertyChange")
    public static let hubSpotContactMerge = hubSpotWebhook("contact.merge")
    public static let hubSpotContactDeletion = hubSpotWebhook("contact.deletion")
    public static let hubSpotContactPrivacyDeletion = hubSpotWebhook("contact.privacyDeletion")

    /// The "send a OneSignal notification" workflow action.
    public static let sendNotification = hubSpotAction("send_notification")
    /// The "edit OneSignal tags" workflow action.
    public static let editTags = hubSpotAction("edit_tags")
}

// MARK: - HubSignal's own events

extension EventType {
    /// A contact was created or updated in HubSpot; carries the HubSpot contact id.
    public static let hubSpotContactSynced = EventType(rawValue: Family.hubSpotResult.prefix + "contact_synced")
    /// A company was created or updated in HubSpot; carries the HubSpot company id.
    public static let hubSpotCompanySynced = EventType(rawValue: Family.hubSpotResult.prefix + "company_synced")
    /// A contact was associated with a company in HubSpot.
    public static let hubSpotAssociationSynced = EventType(rawValue: Family.hubSpotResult.prefix + "association_synced")
    /// A custom object record was created or updated in HubSpot.
    public static let hubSpotObjectSynced = EventType(rawValue: Family.hubSpotResult.prefix + "object_synced")
    /// HubSpot refused a contact or company push for good.
    public static let hubSpotDeliveryFailed = EventType(rawValue: Family.hubSpotResult.prefix + "delivery_failed")
    /// HubSpot refused a behavioral event, timeline event or custom object for good.
    public static let hubSpotEventFailed = EventType(rawValue: Family.hubSpotResult.prefix + "event_failed")
    /// A custom behavioral event definition exists in HubSpot (created by HubSignal or found there).
    public static let hubSpotEventDefinitionRecorded = EventType(rawValue: Family.hubSpotResult.prefix + "event_definition_recorded")
    /// A property was added to a custom behavioral event definition.
    public static let hubSpotEventPropertyAdded = EventType(rawValue: Family.hubSpotResult.prefix + "event_property_added")
    /// HubSpot refused a custom behavioral event definition or one of its properties.
    public static let hubSpotEventDefinitionRefused = EventType(rawValue: Family.hubSpotResult.prefix + "event_definition_refused")
    /// A workflow action's outcome was reported to HubSpot's callback.
    public static let hubSpotActionCompleted = EventType(rawValue: Family.hubSpotResult.prefix + "action_completed")
    /// A workflow action's outcome could not be reported to HubSpot.
    public static let hubSpotActionCompletionFailed = EventType(rawValue: Family.hubSpotResult.prefix + "action_completion_failed")
    /// HubSignal's HubSpot app was installed (or re-authorized) in a portal through OAuth; carries no token.
    public static let hubSpotAppInstalled = EventType(rawValue: Family.hubSpotResult.prefix + "app_installed")
    /// The properties of a HubSpot object type that exist in the account, as read from the Properties API.
    public static let hubSpotPropertiesRead = EventType(rawValue: Family.hubSpotResult.prefix + "properties_read")

    /// A person's tags were written to OneSignal; carries the values acknowledged.
    public static let oneSignalUserSynced = EventType(rawValue: Family.oneSignalResult.prefix + "user_synced")
    /// OneSignal refused a user push for good.
    public static let oneSignalDeliveryFailed = EventType(rawValue: Family.oneSignalResult.prefix + "delivery_failed")
    /// A OneSignal segment was created for an audience.
    public static let oneSignalSegmentCreated = EventType(rawValue: Family.oneSignalResult.prefix + "segment_created")
    /// A notification is about to be sent (written before the request, so a crash cannot send it twice unseen).
    public static let oneSignalNotificationRequested = EventType(rawValue: Family.oneSignalResult.prefix + "notification_requested")
    /// OneSignal accepted a notification; carries its id.
    public static let oneSignalNotificationSent = EventType(rawValue: Family.oneSignalResult.prefix + "notification_sent")
    /// OneSignal refused a notification for good.
    public static let oneSignalNotificationFailed = EventType(rawValue: Family.oneSignalResult.prefix + "notification_failed")
    /// OneSignal applied an edit-tags workflow action's tags to one user of one app.
    public static let oneSignalTagsEdited = EventType(rawValue: Family.oneSignalResult.prefix + "tags_edited")
    /// An edit-tags workflow action changed nothing, for good (no matching OneSignal user, or OneSignal refused it).
    public static let oneSignalTagsEditFailed = EventType(rawValue: Family.oneSignalResult.prefix + "tags_edit_failed")

    /// A person was erased.
    public static let erasure = EventType(rawValue: "hubsignal.erasure")
    /// An operator asked for a person's values to be pushed again.
    public static let replayRequested = EventType(rawValue: "hubsignal.replay_requested")

    /// Every fixed type HubSignal writes itself.
    public static let hubSignalTypes: [EventType] = [
        .hubSpotContactSynced, .hubSpotCompanySynced, .hubSpotAssociationSynced, .hubSpotObjectSynced, .hubSpotDeliveryFailed,
        .hubSpotEventFailed, .hubSpotActionCompleted, .hubSpotActionCompletionFailed, .oneSignalUserSynced,
        .oneSignalDeliveryFailed, .oneSignalSegmentCreated, .oneSignalNotificationRequested, .oneSignalNotificationSent,
        .oneSignalNotificationFailed, .erasure, .replayRequested,
        .hubSpotAppInstalled,
        .hubSpotEventDefinitionRecorded, .hubSpotEventPropertyAdded, .hubSpotEventDefinitionRefused,
        .hubSpotPropertiesRead,
        .oneSignalTagsEdited, .oneSignalTagsEditFailed,
    ]
}
