import Domain

/// A subscription (push token, email address or phone number) owned by a user (`shared/contracts/onesignal.md` §2.1,
/// §2.4).
public struct OneSignalSubscription: Sendable, Equatable {
    /// The subscription types of the spec, with the channel each belongs to.
    static let channels: [String: String] = [
        "iOSPush": "push", "AndroidPush": "push", "FireOSPush": "push", "ChromeExtensionPush": "push", "ChromePush": "push",
        "WindowsPush": "push", "SafariLegacyPush": "push", "FirefoxPush": "push", "macOSPush": "push", "HuaweiPush": "push",
        "SafariPush": "push", "Email": "email", "SMS": "sms",
    ]

    /// Event Streams' `subscription_device_type` for each type.
    static let deviceTypes: [String: String] = [
        "iOSPush": "iOS", "AndroidPush": "Android", "FireOSPush": "FireOS", "ChromeExtensionPush": "ChromeExtension",
        "ChromePush": "Chrome", "WindowsPush": "Windows", "SafariLegacyPush": "Safari", "FirefoxPush": "Firefox",
        "macOSPush": "macOS", "HuaweiPush": "Huawei", "SafariPush": "Safari", "Email": "Email", "SMS": "SMS",
    ]

    /// The members besides `id`, `type`, `token`, `enabled` and `notification_types`, with the defaults views show.
    static let detailDefaults: [String: JSONValue] = [
        "session_time": .int(0), "session_count": .int(1), "sdk": .string(""), "device_model": .string(""),
        "device_os": .string(""), "rooted": .bool(false), "test_type": .int(0), "app_version": .string(""),
        "net_type": .int(0), "carrier": .string(""), "web_auth": .string(""), "web_p256": .string(""),
    ]

    /// The id (UUID v4, lower case).
    public let id: String
    /// The type, e.g. `Email`, `SMS`, `iOSPush`.
    public internal(set) var type: String
    /// The push token, email address or E.164 phone number.
    public internal(set) var token: String?
    /// Whether the subscription may receive messages.
    public internal(set) var enabled: Bool
    /// `1` subscribed, `-31` unsubscribed through the API; other values ≤ 0 are unsubscribed states too.
    public internal(set) var notificationTypes: Int
    /// The other members (`session_time`, `session_count`, `sdk`, `device_model`, …).
    public internal(set) var details: [String: JSONValue]

    /// `push`, `email` or `sms`.
    public var channel: String { Self.channels[type] ?? "push" }

    /// Whether messages reach it: enabled and `notification_types` > 0.
    public var isSubscribed: Bool { enabled && notificationTypes > 0 }

    /// The subscription as the API shows it.
    func json(appID: String) -> JSONValue {
        var members = Self.detailDefaults.merging(details) { _, new in new }
        members["id"] = .string(id)
        members["app_id"] = .string(appID)
        members["type"] = .string(type)
        members["token"] = token.map { .string($0) } ?? .string("")
        members["enabled"] = .bool(enabled)
        members["notification_types"] = .int(Int64(notificationTypes))
        return .object(members)
    }
}
