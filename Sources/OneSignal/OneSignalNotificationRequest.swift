import Foundation

/// A `POST /notifications` body: recipients by alias on one channel (`target_channel`), a template or the channel's
/// content, and an idempotency key.
///
/// Only the members of the chosen channel matter to OneSignal: push reads `headings`, `subtitle`, `contents`, `url` and
/// the images (`big_picture` Android, `chrome_web_image` web, `ios_attachments` iOS); email reads `email_subject`,
/// `email_body` and `email_from_name`; SMS reads `contents` and needs `name` (OneSignal's spec marks it required for
/// SMS). `nil` members are left out of the body.
public struct OneSignalNotificationRequest: Encodable, Sendable, Equatable {
    /// Filled in by the client from its configuration.
    public var appID = ""
    /// Alias label → values, e.g. `["external_id": ["u1"]]`.
    public var includeAliases: [String: [String]]
    /// `push`, `email` or `sms`.
    public var targetChannel: String
    public var templateID: String?
    /// Language → text; `en` is required when there is no template.
    public var headings: [String: String]?
    /// Language → text (iOS shows it under the title).
    public var subtitle: [String: String]?
    /// Language → text: the push message, or the SMS text.
    public var contents: [String: String]?
    /// The page a push opens.
    public var url: String?
    /// The push image for Android (`big_picture`).
    public var bigPicture: String?
    /// The push image for web push (`chrome_web_image`).
    public var chromeWebImage: String?
    /// The push image for iOS: media id → URL (`ios_attachments`).
    public var iosAttachments: [String: String]?
    public var emailSubject: String?
    /// The email's HTML.
    public var emailBody: String?
    public var emailFromName: String?
    /// The message's name in OneSignal's dashboard, never shown to the recipient (required for SMS).
    public var name: String?
    /// A UUID: OneSignal sends a notification with a given key at most once in 30 days.
    public var idempotencyKey: String
    /// Instead of `include_aliases` (OneSignal takes one targeting mode per request): filters such as
    /// `["field": "email", "relation": "=", "value": "ada@example.com"]`, which reach the push subscriptions of the
    /// user whose email subscription has that address. With filters, neither `include_aliases` nor `target_channel`
    /// is sent (filters target push).
    public var filters: [[String: String]]?

    public init(
        includeAliases: [String: [String]], targetChannel: String = "push", templateID: String? = nil,
        headings: [String: String]? = nil, subtitle: [String: String]? = nil, contents: [String: String]? = nil,
        url: String? = nil, bigPicture: String? = nil, chromeWebImage: String? = nil, iosAttachments: [String: String]? = nil,
        emailSubject: String? = nil, emailBody: String? = nil, emailFromName: String? = nil, name: String? = nil,
        idempotencyKey: String
    ) {
        self.includeAliases = includeAliases
        self.targetChannel = targetChannel
        self.templateID = templateID
        self.headings = headings
        self.subtitle = subtitle
        self.contents = contents
        self.url = url
        self.bigPicture = bigPicture
        self.chromeWebImage = chromeWebImage
        self.iosAttachments = iosAttachments
        self.emailSubject = emailSubject
        self.emailBody = emailBody
        self.emailFromName = emailFromName
        self.name = name
        self.idempotencyKey = idempotencyKey
    }

    enum CodingKeys: String, CodingKey {
        case appID = "app_id"
        case includeAliases = "include_aliases"
        case targetChannel = "target_channel"
        case templateID = "template_id"
        case headings, subtitle, contents, url, name
        case bigPicture = "big_picture"
        case chromeWebImage = "chrome_web_image"
        case iosAttachments = "ios_attachments"
        case emailSubject = "email_subject"
        case emailBody = "email_body"
        case emailFromName = "email_from_name"
        case idempotencyKey = "idempotency_key"
        case filters
    }

    /// The members that are set; `include_aliases` and `target_channel`, or `filters`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(appID, forKey: .appID)
        if let filters {
            try container.encode(filters, forKey: .filters)
        } else {
            try container.encode(includeAliases, forKey: .includeAliases)
            try container.encode(targetChannel, forKey: .targetChannel)
        }
        try container.encodeIfPresent(templateID, forKey: .templateID)
        try container.encodeIfPresent(headings, forKey: .headings)
        try container.encodeIfPresent(subtitle, forKey: .subtitle)
        try container.encodeIfPresent(contents, forKey: .contents)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(bigPicture, forKey: .bigPicture)
        try container.encodeIfPresent(chromeWebImage, forKey: .chromeWebImage)
        try container.encodeIfPresent(iosAttachments, forKey: .iosAttachments)
        try container.encodeIfPresent(emailSubject, forKey: .emailSubject)
        try container.encodeIfPresent(emailBody, forKey: .emailBody)
        try container.encodeIfPresent(emailFromName, forKey: .emailFromName)
        try container.encode(idempotencyKey, forKey: .idempotencyKey)
    }
}
