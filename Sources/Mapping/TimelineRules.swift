import Domain
import Foundation
import Ingestion

/// How OneSignal message events (sent, delivered, clicked, failed, …) reach the HubSpot contact's timeline
/// (`hubspot_timeline:` in the mapping file). HubSpot gates the ways to write there by plan and app type (hubspot.md
/// §4.3), so the mapping chooses; the default works on every plan.
public struct TimelineRules: Sendable, Equatable {
    /// How an entry is written.
    public enum Mode: String, Sendable, CaseIterable {
        /// A Note engagement associated with the contact (`POST /crm/v3/objects/notes`): every plan. The default.
        case note
        /// A custom behavioral event `pe<portal>_onesignal_<kind>` (`/events/v3/send`): HubSpot Enterprise.
        case behavioralEvent = "behavioral_event"
        /// A timeline event v3 of `templateID` (`/integrators/timeline/v3/events`): OAuth public apps that own a template
        /// (HubSpot allows them only to apps that already had timeline events). A static-auth app writes notes instead.
        case timelineEvent = "timeline_event"
        /// Nothing is written.
        case off
    }

    /// How entries are written (default `note`).
    public var mode: Mode
    /// The message-event kinds written (default `sent`, `clicked`, `failed`: `delivered` would flood a timeline).
    public var kinds: Set<String>
    /// The event template for `timeline_event`.
    public var templateID: String?

    /// Notes for sent, clicked and failed messages.
    public static let defaults = TimelineRules()

    /// Whether message events also set HubSpot contact properties (`properties`, default `true`): the time of the
    /// last event of each written kind per channel (`onesignal_last_push_clicked_at`, datetime) and the channel's
    /// subscription as the last event showed it (`onesignal_push_subscription`: `subscribed` after a sent, delivered,
    /// clicked or opened message, `unsubscribed` after an unsubscribe or spam report), so HubSpot lists and workflows
    /// can segment on OneSignal activity.
    public var properties: Bool

    public init(
        mode: Mode = .note, kinds: Set<String> = ["sent", "clicked", "failed"], templateID: String? = nil, properties: Bool = true
    ) {
        self.mode = mode
        self.kinds = kinds
        self.templateID = templateID
        self.properties = properties
    }

    /// The HubSpot contact properties a message event of `kind` on `channel` sets (see `properties`).
    public func activityProperties(kind: String, channel: String, at date: Date) -> [String: JSONValue] {
        guard properties, channel.allSatisfy({ $0.isLetter || $0 == "_" }), !channel.isEmpty else { return [:] }
        var result: [String: JSONValue] = [:]
        if kinds.contains(kind) {
            result["onesignal_last_\(channel)_\(kind)_at"] = .string(ISO8601Timestamp.format(date))
        }
        if ["unsubscribed", "reported_as_spam"].contains(kind) {
            result["onesignal_\(channel)_subscription"] = .string("unsubscribed")
        } else if ["sent", "received", "delivered", "clicked", "opened"].contains(kind) {
            result["onesignal_\(channel)_subscription"] = .string("subscribed")
        }
        return result
    }

    /// The HubSpot property type of an activity property HubSignal creates on first use (`nil`: not one of them).
    public static func activityPropertyType(_ name: String) -> String? {
        guard name.hasPrefix("onesignal_") else { return nil }
        if name.hasPrefix("onesignal_last_") && name.hasSuffix("_at") { return "datetime" }
        if name.hasSuffix("_subscription") { return "string" }
        return nil
    }

    /// Whether a message event of `kind` (e.g. `clicked`) is written to the timeline.
    public func writes(kind: String) -> Bool {
        mode != .off && kinds.contains(kind)
    }
}

// MARK: - Reading the mapping file

extension TimelineRules {
    static let keys = ["mode", "kinds", "template_id", "properties"]
    /// The kinds OneSignal's event streams report (onesignal.md §8.1).
    static let knownKinds = [
        "sent", "received", "delivered", "undelivered", "clicked", "opened", "failed", "bounced", "suppressed", "unsubscribed",
        "reported_as_spam", "impression", "page_displayed",
    ]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let mode = object["mode"] {
            self.mode = Mode(rawValue: try mode.choice(Mode.allCases.map(\.rawValue)))!
        }
        if let kinds = object["kinds"] {
            var chosen: Set<String> = []
            for kind in try kinds.stringList("a list of message-event kinds, e.g. [sent, clicked, failed]") {
                guard Self.knownKinds.contains(kind) else {
                    throw kinds.error("'\(kind)' is not a OneSignal message-event kind; use one of \(Self.knownKinds.joined(separator: ", "))")
                }
                chosen.insert(kind)
            }
            self.kinds = chosen
        }
        if let template = object["template_id"] {
            let text = try template.string("the timeline event template id")
            templateID = text.isEmpty ? nil : text
        }
        if let flag = object["properties"] { properties = try flag.bool() }
        if mode == .timelineEvent && templateID == nil {
            throw value.error("mode timeline_event needs template_id: the id of your app's timeline event template")
        }
    }

    var canonical: JSONValue {
        .object([
            "mode": .string(mode.rawValue), "kinds": .array(kinds.sorted().map(JSONValue.string)),
            "template_id": templateID.map(JSONValue.string) ?? .null, "properties": .bool(properties),
        ])
    }
}
