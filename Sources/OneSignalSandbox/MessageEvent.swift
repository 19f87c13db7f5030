import Foundation

/// One message event as an Event Stream carries it (§8.1): the values its template fields take. Absent values are
/// empty strings, as Liquid renders them.
public struct MessageEvent: Sendable, Equatable {
    /// `event.id`: a UUID v4, new for every event.
    public let id: String
    /// `event.kind`, e.g. `message.push.sent`.
    public let kind: String
    /// `event.timestamp`: unix seconds.
    public let timestamp: Int64
    /// `event.datetime`: ISO 8601 UTC with milliseconds.
    public let datetime: String
    /// `event.app_id`.
    public let appID: String
    /// `event.external_id`.
    public let externalID: String
    /// `event.onesignal_id`.
    public let onesignalID: String
    /// `event.subscription_id`.
    public let subscriptionID: String
    /// `event.subscription_device_type` (`iOS`, `Android`, `Email`, `SMS`, …).
    public let deviceType: String
    /// `event.data.failure_reason`.
    public let failureReason: String
    /// `message.id`: the notification id.
    public let messageID: String
    /// `message.name`.
    public let messageName: String
    /// `message.template_id`.
    public let templateID: String
    /// `message.title.en`.
    public let title: String
    /// `message.url`.
    public let url: String

    /// An event of `kind` at `date` with a new id.
    init(
        kind: String, date: Date, appID: String, externalID: String, onesignalID: String, subscriptionID: String,
        deviceType: String, failureReason: String, messageID: String, messageName: String, templateID: String, title: String,
        url: String
    ) {
        self.id = UUID().uuidString.lowercased()
        self.kind = kind
        self.timestamp = Int64(date.timeIntervalSince1970)
        self.datetime = Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
        self.appID = appID
        self.externalID = externalID
        self.onesignalID = onesignalID
        self.subscriptionID = subscriptionID
        self.deviceType = deviceType
        self.failureReason = failureReason
        self.messageID = messageID
        self.messageName = messageName
        self.templateID = templateID
        self.title = title
        self.url = url
    }

    /// The full kind for a short one on `channel`: `sent`, `delivered` (push and email: `received`), `clicked`,
    /// `failed`, … become `message.<channel>.<kind>`; a kind starting with `message.` is kept.
    static func fullKind(_ kind: String, channel: String) -> String {
        if kind.hasPrefix("message.") { return kind }
        if kind == "delivered", channel != "sms" { return "message.\(channel).received" }
        if kind == "received", channel == "sms" { return "message.sms.delivered" }
        return "message.\(channel).\(kind)"
    }
}
