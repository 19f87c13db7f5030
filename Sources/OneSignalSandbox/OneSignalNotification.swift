import Domain
import Foundation

/// A notification a sandbox app created, with the subscriptions it was sent to (`shared/contracts/onesignal.md` §4).
public struct OneSignalNotification: Sendable {
    /// One subscription the notification was sent to.
    public struct Recipient: Sendable, Equatable {
        /// The owner's `onesignal_id`.
        public let onesignalID: String
        /// The owner's `external_id`, if any.
        public let externalID: String?
        /// The subscription's id.
        public let subscriptionID: String
        /// The subscription's type (`Email`, `iOSPush`, …).
        public let subscriptionType: String
        /// The subscription's token.
        public let token: String?
    }

    /// The notification id `POST /notifications` answered with.
    public let id: String
    /// The app it belongs to.
    public let appID: String
    /// `push`, `email` or `sms`.
    public let channel: String
    /// Who it was sent to, once per subscription.
    public let recipients: [Recipient]
    /// `idempotency_key` (or the deprecated request `external_id`), if sent.
    public let idempotencyKey: String?
    /// When it was created.
    public let queuedAt: Date
    /// The request body as received.
    public let request: [String: JSONValue]
    /// Whether it was cancelled (`DELETE /notifications/{id}`).
    public internal(set) var canceled: Bool

    /// `contents` as a language → text map.
    public var contents: [String: String]? { Self.stringMap(request["contents"]) }
    /// `headings` as a language → text map.
    public var headings: [String: String]? { Self.stringMap(request["headings"]) }
    /// `template_id`, if sent.
    public var templateID: String? { request["template_id"]?.stringValue }
    /// `url`, if sent.
    public var url: String? { request["url"]?.stringValue }
    /// `data`, if sent.
    public var data: JSONValue? { request["data"].flatMap { $0 == .null ? nil : $0 } }
    /// `name`, if sent.
    public var name: String? { request["name"]?.stringValue }
    /// The `external_id` aliases of the recipients, once each, in send order.
    public var recipientExternalIDs: [String] {
        var seen = Set<String>()
        return recipients.compactMap(\.externalID).filter { seen.insert($0).inserted }
    }

    /// The notification as `GET /notifications/{id}` shows it (`NotificationWithMeta`): the request's members, the
    /// id and the delivery counters (every recipient counts as successful).
    var json: JSONValue {
        var members = request
        members.removeValue(forKey: "idempotency_key")
        members["id"] = .string(id)
        members["app_id"] = .string(appID)
        let queued = Int64(queuedAt.timeIntervalSince1970)
        members["queued_at"] = .int(queued)
        members["send_after"] = .int(queued)
        members["completed_at"] = canceled ? .null : .int(queued)
        members["successful"] = .int(canceled ? 0 : Int64(recipients.count))
        members["failed"] = .int(0)
        members["errored"] = .int(0)
        members["converted"] = .int(0)
        members["received"] = .null
        members["remaining"] = .int(0)
        members["canceled"] = .bool(canceled)
        members["throttle_rate_per_minute"] = .null
        let delivery: JSONValue = .object([
            "successful": .int(canceled ? 0 : Int64(recipients.count)), "failed": .int(0), "errored": .int(0),
            "converted": .int(0), "received": .int(0),
        ])
        let platform: String
        switch channel {
        case "email": platform = "email"
        case "sms": platform = "sms"
        default: platform = "ios"
        }
        members["platform_delivery_stats"] = .object([platform: delivery])
        return .object(members)
    }

    private static func stringMap(_ value: JSONValue?) -> [String: String]? {
        guard let object = value?.objectValue else { return nil }
        return object.compactMapValues(\.stringValue)
    }
}
