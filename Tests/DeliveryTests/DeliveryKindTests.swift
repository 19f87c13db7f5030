import Delivery
import Domain
import Testing

@Suite struct DeliveryKindTests {
    /// The stored `deliveries.object_kind` text and destination of every kind: users query them, so they must not change.
    static let stored: [(DeliveryKind, String, Destination)] = [
        (.contact, "contact", .hubspot), (.company, "company", .hubspot), (.association, "association", .hubspot),
        (.event, "event", .hubspot), (.notification, "notification", .onesignal), (.user(app: "default"), "user:default", .onesignal),
        (.user(app: "eu:shop"), "user:eu:shop", .onesignal), (.segment(app: "default"), "segment:default", .onesignal),
    ]

    @Test func everyKindIsStoredAsBeforeAndReadBack() {
        for (kind, text, destination) in Self.stored {
            #expect(kind.rawValue == text)
            #expect(DeliveryKind(rawValue: text) == kind)
            #expect(kind.destination == destination)
        }
        #expect(DeliveryKind.user(app: "x").rawValue.hasPrefix(DeliveryKind.userPrefix))
    }

    @Test func textNoKindIsStoredAsIsRefused() {
        for text in ["", "Contact", "users:default", "custom_object", "behavioral_event"] {
            #expect(DeliveryKind(rawValue: text) == nil, "\(text)")
        }
    }
}
