import Domain
import PQ

/// What a `deliveries` row is about: its `object_kind`, which with the destination it implies keys the row.
public enum DeliveryKind: Sendable, Hashable, CustomStringConvertible {
    /// A HubSpot contact; key: the contact id.
    case contact
    /// A HubSpot company; key: the company id.
    case company
    /// A HubSpot contact → company association; key: `<contact id> <company id>`.
    case association
    /// A `hubspot_event_outbox` row (behavioral event, note, timeline event, custom object record); key: its `delivery_key`.
    case event
    /// A workflow notification of `onesignal_outbox`; key: the callback id.
    case notification
    /// A contact's tags in one OneSignal app; key: the contact id.
    case user(app: String)
    /// A OneSignal segment of an audience in one app; key: the audience.
    case segment(app: String)

    /// The text every ``user(app:)`` kind starts with, `user:`: `starts_with(object_kind, …)` finds every app's users.
    public static let userPrefix = "user:"
    /// The text every ``segment(app:)`` kind starts with, `segment:`.
    public static let segmentPrefix = "segment:"

    /// The stored text: `contact`, `company`, `association`, `event`, `notification`, `user:<app>`, `segment:<app>`.
    public var rawValue: String {
        switch self {
        case .contact: return "contact"
        case .company: return "company"
        case .association: return "association"
        case .event: return "event"
        case .notification: return "notification"
        case .user(let app): return Self.userPrefix + app
        case .segment(let app): return Self.segmentPrefix + app
        }
    }

    /// The kind a stored `object_kind` names; `nil` for text no kind is stored as.
    public init?(rawValue: String) {
        switch rawValue {
        case "contact": self = .contact
        case "company": self = .company
        case "association": self = .association
        case "event": self = .event
        case "notification": self = .notification
        default:
            if let app = rawValue.dropPrefix(Self.userPrefix) {
                self = .user(app: app)
            } else if let app = rawValue.dropPrefix(Self.segmentPrefix) {
                self = .segment(app: app)
            } else {
                return nil
            }
        }
    }

    /// The destination the object is pushed to (the row's `destination`).
    public var destination: Destination {
        switch self {
        case .contact, .company, .association, .event: return .hubspot
        case .notification, .user, .segment: return .onesignal
        }
    }

    public var description: String { rawValue }
}

extension DeliveryKind: PQEncodable {
    public var pqParameter: PQParameter { .text(rawValue) }
}

extension PQQuery.StringInterpolation {
    /// Binds a destination's stored text (`deliveries.destination`, `sync_status.destination`).
    mutating func appendInterpolation(_ destination: Destination) {
        appendInterpolation(destination.rawValue)
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> String? {
        hasPrefix(prefix) ? String(dropFirst(prefix.count)) : nil
    }
}
