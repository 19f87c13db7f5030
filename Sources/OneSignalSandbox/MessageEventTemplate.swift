import Domain

/// The body an Event Stream POSTs, as its Liquid template defines it (`shared/contracts/onesignal.md` §8.1).
public enum MessageEventTemplate: Sendable {
    /// HubSignal's documented template (docs/http-api.md, "OneSignal event streams"): flat keys (`event_id`, `kind`,
    /// `timestamp` as a number, `datetime`, `app_id`, `external_id`, …, `title`, `url`).
    case flat
    /// The docs' example style: dotted keys (`event.id`, `event.kind`, `message.id`, …), every value quoted,
    /// `event.timestamp` too.
    case dotted

    /// The body for `event`.
    func render(_ event: MessageEvent) -> JSONValue {
        switch self {
        case .flat:
            .object([
                "event_id": .string(event.id), "kind": .string(event.kind), "timestamp": .int(event.timestamp),
                "datetime": .string(event.datetime), "app_id": .string(event.appID), "external_id": .string(event.externalID),
                "onesignal_id": .string(event.onesignalID), "subscription_id": .string(event.subscriptionID),
                "device_type": .string(event.deviceType), "failure_reason": .string(event.failureReason),
                "message_id": .string(event.messageID), "message_name": .string(event.messageName),
                "template_id": .string(event.templateID), "title": .string(event.title), "url": .string(event.url),
            ])
        case .dotted:
            .object([
                "event.id": .string(event.id), "event.kind": .string(event.kind), "event.timestamp": .string(String(event.timestamp)),
                "event.datetime": .string(event.datetime), "event.app_id": .string(event.appID),
                "event.external_id": .string(event.externalID), "event.onesignal_id": .string(event.onesignalID),
                "event.subscription_id": .string(event.subscriptionID),
                "event.subscription_device_type": .string(event.deviceType),
                "event.data.failure_reason": .string(event.failureReason), "message.id": .string(event.messageID),
                "message.name": .string(event.messageName), "message.template_id": .string(event.templateID),
                "message.title": .string(event.title), "message.url": .string(event.url),
            ])
        }
    }
}
