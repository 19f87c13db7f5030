// The payloads of `hubsignal.onesignal.*`: what OneSignal answered HubSignal.

/// `hubsignal.onesignal.user_synced`: a person's tags were written to OneSignal.
public struct OneSignalUserSynced: EventPayload {
    public static let eventType = EventType.oneSignalUserSynced

    /// HubSignal's contact id (`contactId`).
    public var contactID: String
    /// The external id OneSignal knows the user by (`externalId`; decodes to `""` when absent).
    public var externalID: String
    /// The OneSignal app's name in HubSignal (`app`; decodes to `"default"` when absent).
    public var app: String
    /// Every tag OneSignal holds from HubSignal after this push (`tags`; decodes to `[:]` when absent).
    public var tags: [String: JSONValue]
    /// The names of the tags this push changed, sorted (`sent`; decodes to `[]` when absent).
    public var sent: [String]
    /// Whether the push created the user (`created`; decodes to `false` when absent).
    public var created: Bool
    /// OneSignal's id of the user when the push created it (`onesignalId`).
    public var oneSignalID: String?

    public init(
        contactID: String, externalID: String, app: String, tags: [String: JSONValue], sent: [String], created: Bool,
        oneSignalID: String? = nil
    ) {
        self.contactID = contactID
        self.externalID = externalID
        self.app = app
        self.tags = tags
        self.sent = sent
        self.created = created
        self.oneSignalID = oneSignalID
    }

    enum CodingKeys: String, CodingKey {
        case contactID = "contactId", externalID = "externalId", app, tags, sent, created, oneSignalID = "onesignalId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        contactID = try container.decode(String.self, forKey: .contactID)
        externalID = try container.decode(String.self, forKey: .externalID, default: "")
        app = try container.decode(String.self, forKey: .app, default: "default")
        tags = try container.decode([String: JSONValue].self, forKey: .tags, default: [:])
        sent = try container.decode([String].self, forKey: .sent, default: [])
        created = try container.decode(Bool.self, forKey: .created, default: false)
        oneSignalID = try container.decodeIfPresent(String.self, forKey: .oneSignalID)
    }
}

/// `hubsignal.onesignal.delivery_failed`: OneSignal refused a user push for good.
public struct OneSignalDeliveryFailed: EventPayload {
    public static let eventType = EventType.oneSignalDeliveryFailed

    /// HubSignal's contact id (`contactId`).
    public var contactID: String
    /// The OneSignal app's name in HubSignal (`app`; decodes to `"default"` when absent).
    public var app: String
    /// OneSignal's reason, or why HubSignal gave up (`reason`; decodes to `"unknown"` when absent).
    public var reason: String
    /// The names of the tags the push carried, sorted (`tags`; decodes to `[]` when absent).
    public var tags: [String]

    public init(contactID: String, app: String, reason: String, tags: [String]) {
        self.contactID = contactID
        self.app = app
        self.reason = reason
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case contactID = "contactId", app, reason, tags
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        contactID = try container.decode(String.self, forKey: .contactID)
        app = try container.decode(String.self, forKey: .app, default: "default")
        reason = try container.decode(String.self, forKey: .reason, default: "unknown")
        tags = try container.decode([String].self, forKey: .tags, default: [])
    }
}

/// `hubsignal.onesignal.segment_created`: a OneSignal segment was created for an audience.
public struct OneSignalSegmentCreated: EventPayload {
    public static let eventType = EventType.oneSignalSegmentCreated

    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The audience (`audience`).
    public var audience: String
    /// The tag the segment filters on (`tag`).
    public var tag: String
    /// OneSignal's id of the new segment, when it answered one (`segmentId`).
    public var segmentID: String?
    /// Whether the segment existed already (`existed: true`, absent otherwise).
    public var existed: Bool

    public init(app: String, audience: String, tag: String, segmentID: String? = nil, existed: Bool = false) {
        self.app = app
        self.audience = audience
        self.tag = tag
        self.segmentID = segmentID
        self.existed = existed
    }

    enum CodingKeys: String, CodingKey {
        case app, audience, tag, segmentID = "segmentId", existed
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        app = try container.decode(String.self, forKey: .app)
        audience = try container.decode(String.self, forKey: .audience)
        tag = try container.decode(String.self, forKey: .tag)
        segmentID = try container.decodeIfPresent(String.self, forKey: .segmentID)
        existed = try container.decode(Bool.self, forKey: .existed, default: false)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(app, forKey: .app)
        try container.encode(audience, forKey: .audience)
        try container.encode(tag, forKey: .tag)
        try container.encodeIfPresent(segmentID, forKey: .segmentID)
        try container.encode(flag: existed, forKey: .existed)
    }
}

/// `hubsignal.onesignal.notification_requested`: a workflow notification is about to be sent (recorded before the
/// request, so a crash cannot send it twice unseen).
public struct OneSignalNotificationRequested: EventPayload {
    public static let eventType = EventType.oneSignalNotificationRequested

    /// The request HubSignal sends OneSignal for a workflow notification. Its members sit at the top level of the
    /// `notification_requested`, `notification_sent` and `notification_failed` payloads.
    public struct Request: Codable, Sendable, Hashable {
        /// The recipient's external id (`externalId`); empty when the push went to `pushToEmail`'s owner instead.
        public var externalID: String
        /// The email whose OneSignal user's push subscriptions the push went to (`pushToEmail`; OneSignal's `email`
        /// filter, `onesignal.push_by_email`); `nil` for a recipient by external id.
        public var pushToEmail: String?
        /// The idempotency key sent to OneSignal (`idempotencyKey`).
        public var idempotencyKey: String
        /// The channel (`targetChannel`, e.g. `push`).
        public var targetChannel: String
        /// The workflow action's inputs, under their input names: `template_id`, `heading`, `content`, `url`, then
        /// `subtitle`, `image_url`, `email_subject`, `email_body`, `email_from_name` (absent when not given). Texts are
        /// as sent: with the contact's `{{ contact.… }}` placeholders rendered (`MessageTemplate`).
        public var templateID: String?
        public var heading: String?
        public var content: String?
        public var url: String?
        public var subtitle: String?
        public var imageURL: String?
        public var emailSubject: String?
        public var emailBody: String?
        public var emailFromName: String?

        public init(
            externalID: String, idempotencyKey: String, targetChannel: String, templateID: String? = nil, heading: String? = nil,
            content: String? = nil, url: String? = nil, subtitle: String? = nil, imageURL: String? = nil,
            emailSubject: String? = nil, emailBody: String? = nil, emailFromName: String? = nil, pushToEmail: String? = nil
        ) {
            self.externalID = externalID
            self.pushToEmail = pushToEmail
            self.idempotencyKey = idempotencyKey
            self.targetChannel = targetChannel
            self.templateID = templateID
            self.heading = heading
            self.content = content
            self.url = url
            self.subtitle = subtitle
            self.imageURL = imageURL
            self.emailSubject = emailSubject
            self.emailBody = emailBody
            self.emailFromName = emailFromName
        }

        enum CodingKeys: String, CodingKey {
            case externalID = "externalId", idempotencyKey, targetChannel, templateID = "template_id", heading, content, url
            case subtitle, imageURL = "image_url", emailSubject = "email_subject", emailBody = "email_body"
            case emailFromName = "email_from_name", pushToEmail
        }
    }

    /// HubSpot's callback id of the workflow action (`callbackId`).
    public var callbackID: String
    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The HubSpot contact the action ran for (`hubspotObjectId`).
    public var hubSpotObjectID: String
    /// The request, its members at the top level.
    public var request: Request

    public init(callbackID: String, app: String, hubSpotObjectID: String, request: Request) {
        self.callbackID = callbackID
        self.app = app
        self.hubSpotObjectID = hubSpotObjectID
        self.request = request
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", app, hubSpotObjectID = "hubspotObjectId"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callbackID = try container.decode(String.self, forKey: .callbackID)
        app = try container.decode(String.self, forKey: .app)
        hubSpotObjectID = try container.decode(String.self, forKey: .hubSpotObjectID)
        request = try Request(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callbackID, forKey: .callbackID)
        try container.encode(app, forKey: .app)
        try container.encode(hubSpotObjectID, forKey: .hubSpotObjectID)
        try request.encode(to: encoder)
    }
}

/// `hubsignal.onesignal.notification_sent`: OneSignal accepted a workflow notification.
public struct OneSignalNotificationSent: EventPayload {
    public static let eventType = EventType.oneSignalNotificationSent

    /// HubSpot's callback id of the workflow action (`callbackId`).
    public var callbackID: String
    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The HubSpot contact the action ran for (`hubspotObjectId`).
    public var hubSpotObjectID: String
    /// The request, its members at the top level.
    public var request: OneSignalNotificationRequested.Request
    /// OneSignal's id of the notification (`notificationId`).
    public var notificationID: String
    /// How many recipients it had: `0` when OneSignal named the external id invalid, else `1` (`recipients`).
    public var recipients: Int
    /// Whether OneSignal answered from an earlier request with the same idempotency key (`replayed`).
    public var replayed: Bool
    /// OneSignal's errors (`errors`; written only when not empty).
    public var errors: [String]

    public init(
        callbackID: String, app: String, hubSpotObjectID: String, request: OneSignalNotificationRequested.Request, notificationID: String,
        recipients: Int, replayed: Bool, errors: [String]
    ) {
        self.callbackID = callbackID
        self.app = app
        self.hubSpotObjectID = hubSpotObjectID
        self.request = request
        self.notificationID = notificationID
        self.recipients = recipients
        self.replayed = replayed
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", app, hubSpotObjectID = "hubspotObjectId", notificationID = "notificationId", recipients
        case replayed, errors
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callbackID = try container.decode(String.self, forKey: .callbackID)
        app = try container.decode(String.self, forKey: .app)
        hubSpotObjectID = try container.decode(String.self, forKey: .hubSpotObjectID)
        request = try OneSignalNotificationRequested.Request(from: decoder)
        notificationID = try container.decode(String.self, forKey: .notificationID)
        recipients = try container.decode(Int.self, forKey: .recipients)
        replayed = try container.decode(Bool.self, forKey: .replayed)
        errors = try container.decode([String].self, forKey: .errors, default: [])
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callbackID, forKey: .callbackID)
        try container.encode(app, forKey: .app)
        try container.encode(hubSpotObjectID, forKey: .hubSpotObjectID)
        try request.encode(to: encoder)
        try container.encode(notificationID, forKey: .notificationID)
        try container.encode(recipients, forKey: .recipients)
        try container.encode(replayed, forKey: .replayed)
        if !errors.isEmpty { try container.encode(errors, forKey: .errors) }
    }
}

/// `hubsignal.onesignal.notification_failed`: a workflow notification was not sent, for good.
public struct OneSignalNotificationFailed: EventPayload {
    public static let eventType = EventType.oneSignalNotificationFailed

    /// HubSpot's callback id of the workflow action (`callbackId`).
    public var callbackID: String
    /// The OneSignal app's name in HubSignal (`app`).
    public var app: String
    /// The HubSpot contact the action ran for (`hubspotObjectId`).
    public var hubSpotObjectID: String
    /// The request, its members at the top level, when one was made (none without a recipient, or when it expired).
    public var request: OneSignalNotificationRequested.Request?
    /// Why (`reason`).
    public var reason: String
    /// Set when the action expired unsent: the attempts made (`expired: true` and `attempts`, both absent otherwise).
    public var expiredAfterAttempts: Int?

    public init(
        callbackID: String, app: String, hubSpotObjectID: String, request: OneSignalNotificationRequested.Request?, reason: String,
        expiredAfterAttempts: Int? = nil
    ) {
        self.callbackID = callbackID
        self.app = app
        self.hubSpotObjectID = hubSpotObjectID
        self.request = request
        self.reason = reason
        self.expiredAfterAttempts = expiredAfterAttempts
    }

    enum CodingKeys: String, CodingKey {
        case callbackID = "callbackId", app, hubSpotObjectID = "hubspotObjectId", reason, expired, attempts
        case externalID = "externalId"
    }

    /// The request when `externalId` is present; the attempts when `expired` is true.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        callbackID = try container.decode(String.self, forKey: .callbackID)
        app = try container.decode(String.self, forKey: .app)
        hubSpotObjectID = try container.decode(String.self, forKey: .hubSpotObjectID)
        request = container.contains(.externalID) ? try OneSignalNotificationRequested.Request(from: decoder) : nil
        reason = try container.decode(String.self, forKey: .reason)
        expiredAfterAttempts =
            try container.decode(Bool.self, forKey: .expired, default: false)
            ? try container.decode(Int.self, forKey: .attempts, default: 0) : nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(callbackID, forKey: .callbackID)
        try container.encode(app, forKey: .app)
        try container.encode(hubSpotObjectID, forKey: .hubSpotObjectID)
        try request?.encode(to: encoder)
        try container.encode(reason, forKey: .reason)
        if let expiredAfterAttempts {
            try container.encode(true, forKey: .expired)
            try container.encode(expiredAfterAttempts, forKey: .attempts)
        }
    }
}
