import Domain
import Foundation

/// A webhook or workflow-action event ready to append.
public struct InboundEvent: Sendable, Hashable {
    /// Its index in the request.
    public var index: Int
    /// `hubspot.webhook.contact.propertyChange`, `hubspot.action.send_notification`, `onesignal.message.push.clicked`, …
    public var type: EventType
    public var stream: String
    public var idempotencyKey: String
    public var occurredAt: Date
    /// The event as it arrived.
    public var payload: JSONValue
}

/// Validates HubSpot webhook v3 deliveries: a JSON array of events (`shared/contracts/hubspot.md` §7).
public enum HubSpotWebhookParser {
    /// The longest id HubSpot may send (`eventId`, `subscriptionId`, `objectId`, `subscriptionType`, `callbackId`, …):
    /// 256 bytes. HubSpot's are short numbers and names; four of them make an event's idempotency key, an index key that
    /// PostgreSQL limits to about 2.7 KB.
    public static let maximumIdentifierBytes = 256

    /// `nil` when `value` is within `maximumIdentifierBytes`, else the reason.
    static func overlong(_ field: String, _ value: String?) -> String? {
        guard let value, value.utf8.count > maximumIdentifierBytes else { return nil }
        return "\"\(field)\" is \(value.utf8.count) bytes; the limit is \(maximumIdentifierBytes) bytes"
    }

    /// The outcome of one delivery: events to store and events refused (with reasons).
    public struct Result: Sendable {
        public var accepted: [InboundEvent]
        public var rejected: [RejectedMessage]

        /// Moves the accepted events whose `portalId` is not `portalID` (or absent; every event when `portalID` is
        /// `nil`) to `rejected`, each with the reason.
        ///
        /// - Returns: the reason the first of them was refused, or `nil` when every accepted event names `portalID`.
        public mutating func refuseOtherPortals(than portalID: String?) -> String? {
            var first: String?
            var kept: [InboundEvent] = []
            for event in accepted {
                if let refusal = HubSpotPortal.refusal(sent: event.payload["portalId"], configured: portalID) {
                    first = first ?? refusal
                    rejected.append(
                        RejectedMessage(
                            index: event.index, messageId: event.payload["eventId"]?.identifierValue, reason: refusal, message: event.payload))
                } else {
                    kept.append(event)
                }
            }
            accepted = kept
            rejected.sort { $0.index < $1.index }
            return first
        }
    }

    public static func parse(_ body: JSONValue) throws(IngestionError) -> Result {
        guard case .array(let items) = body else {
            throw .badRequest("invalid_body", "a HubSpot webhook delivery must be a JSON array of events")
        }
        var result = Result(accepted: [], rejected: [])
        for (index, item) in items.enumerated() {
            func reject(_ reason: String) {
                let eventID = item["eventId"]?.identifierValue
                result.rejected.append(
                    RejectedMessage(
                        index: index, messageId: overlong("eventId", eventID) == nil ? eventID : nil, reason: reason, message: item))
            }
            guard item.objectValue != nil else {
                reject("the event is not a JSON object")
                continue
            }
            guard let eventID = item["eventId"]?.identifierValue else {
                reject("\"eventId\" is required")
                continue
            }
            guard let subscriptionType = item["subscriptionType"]?.stringValue, subscriptionType.contains("."),
                subscriptionType.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" })
            else {
                reject("\"subscriptionType\" must look like contact.propertyChange")
                continue
            }
            guard let occurredAt = item["occurredAt"].flatMap(Self.milliseconds) else {
                reject("\"occurredAt\" must be epoch milliseconds (between the years 1 and 9999)")
                continue
            }
            let objectID = item["objectId"]?.identifierValue ?? item["primaryObjectId"]?.identifierValue
            let subscriptionID = item["subscriptionId"]?.identifierValue ?? "-"
            guard let objectID else {
                reject("\"objectId\" is required")
                continue
            }
            if let reason = overlong("eventId", eventID) ?? overlong("subscriptionType", subscriptionType)
                ?? overlong("objectId", objectID) ?? overlong("subscriptionId", subscriptionID)
            {
                reject(reason)
                continue
            }
            let objectType = String(subscriptionType.split(separator: ".").first!)
            // HubSpot says eventId alone is not guaranteed unique.
            let key = "\(subscriptionID):\(eventID):\(Int64(occurredAt.timeIntervalSince1970 * 1000)):\(objectID)"
            result.accepted.append(
                InboundEvent(
                    index: index, type: .hubSpotWebhook(subscriptionType), stream: "hubspot-\(objectType):\(objectID)",
                    idempotencyKey: key, occurredAt: occurredAt, payload: item))
        }
        return result
    }

    /// The date of epoch milliseconds given as a number or a string; `nil` for anything else, NaN, or a date outside
    /// the years 1 to 9999.
    static func milliseconds(_ value: JSONValue) -> Date? {
        let milliseconds: Double
        switch value {
        case .int(let number): milliseconds = Double(number)
        case .double(let number): milliseconds = number
        case .string(let text):
            guard let number = Double(text) else { return nil }
            milliseconds = number
        default: return nil
        }
        let date = Date(timeIntervalSince1970: milliseconds / 1000)
        return ISO8601Timestamp.isStorable(date) ? date : nil
    }
}

/// The HubSpot account a webhook event or workflow action comes from. A public app's client secret signs the requests
/// of every portal that installs the app, so a valid signature does not make a request this HubSignal's: its
/// `portalId` (webhooks) or `origin.portalId` (workflow actions) must be the configured one (`HUBSPOT_PORTAL_ID`).
/// Refusals never name the configured portal.
public enum HubSpotPortal {
    /// Why a request naming `sent` is refused when `configured` is this HubSignal's portal, or `nil` when it is accepted.
    public static func refusal(sent: JSONValue?, configured: String?) -> String? {
        guard let configured else {
            return "HUBSPOT_PORTAL_ID is not configured: HubSignal accepts no HubSpot portal's requests"
        }
        guard let portal = sent?.identifierValue else {
            return "the request names no HubSpot portal (portalId): HubSignal accepts only the one of HUBSPOT_PORTAL_ID"
        }
        guard portal == configured else {
            return "portal \(portal.prefix(64)) is not the HubSpot account this HubSignal serves (HUBSPOT_PORTAL_ID)"
        }
        return nil
    }
}

/// The two custom workflow actions HubSignal offers in HubSpot.
public enum HubSpotWorkflowAction: String, Sendable, CaseIterable {
    case sendNotification = "send_notification"
    case editTags = "edit_tags"

    /// The request path HubSpot calls.
    public var path: String {
        switch self {
        case .sendNotification: return "/hubspot/actions/send-notification"
        case .editTags: return "/hubspot/actions/edit-tags"
        }
    }

    /// Validates an execution request (`shared/contracts/hubspot.md` §8): `callbackId` is the idempotency key.
    ///
    /// Throws `invalid_body` when the request is not a workflow action at all, and `invalid_action` (a mistake in the
    /// workflow's inputs, answered to HubSpot as `FAIL_CONTINUE` with the reason) when its inputs are wrong:
    /// - send-notification: the channel's content as ``WorkflowNotification`` checks it (a `template_id`, or texts
    ///   whose `{{ contact.… }}` placeholders are well-formed); optional `email`, `external_id`, `app`;
    /// - edit-tags: `tags`, a JSON object as a string, flat, with string, number, boolean or null values (null or ""
    ///   removes the tag), at most 100; optional `email`, `external_id`, `app`.
    public func parse(_ body: JSONValue, receivedAt: Date) throws(IngestionError) -> InboundEvent {
        guard body.objectValue != nil else {
            throw .badRequest("invalid_body", "a workflow action request must be a JSON object")
        }
        guard let callbackID = body["callbackId"]?.stringValue, !callbackID.isEmpty else {
            throw .badRequest("invalid_body", "\"callbackId\" is required")
        }
        guard let object = body["object"], let objectID = object["objectId"]?.identifierValue else {
            throw .badRequest("invalid_body", "\"object.objectId\" is required")
        }
        let objectType = (object["objectType"]?.stringValue ?? "CONTACT").lowercased()
        if let reason = HubSpotWebhookParser.overlong("callbackId", callbackID) ?? HubSpotWebhookParser.overlong("object.objectId", objectID)
            ?? HubSpotWebhookParser.overlong("object.objectType", objectType)
        {
            throw .badRequest("invalid_body", reason)
        }
        guard let inputs = body["inputFields"]?.objectValue ?? body["fields"]?.objectValue else {
            throw .badRequest("invalid_body", "\"inputFields\" is required")
        }
        func text(_ name: String) throws(IngestionError) -> String? { try HubSpotWorkflowAction.text(name, in: inputs) }
        _ = try text("email")
        _ = try text("external_id")
        _ = try text("app")
        switch self {
        case .sendNotification:
            _ = try WorkflowNotification(inputs: inputs)
        case .editTags:
            _ = try Self.tags(inputs)
        }
        return InboundEvent(
            index: 0, type: .hubSpotAction(rawValue), stream: "hubspot-\(objectType):\(objectID)", idempotencyKey: callbackID,
            occurredAt: receivedAt, payload: body)
    }

    /// The text input `name` of an action's `inputFields`, trimmed; `nil` when absent, `null` or blank. A number is read
    /// as its digits; anything else throws `invalid_action`.
    static func text(_ name: String, in inputs: [String: JSONValue]) throws(IngestionError) -> String? {
        switch inputs[name] {
        case nil, .null: return nil
        case .string(let value):
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed.isEmpty ? nil : trimmed
        case .int(let value): return String(value)
        default: throw .badRequest("invalid_action", "the input \"\(name)\" must be text")
        }
    }

    /// OneSignal accepts at most 100 tag updates per request.
    public static let maximumTags = 100

    /// The tags of an edit-tags action: tag → value as text, `nil` to remove (JSON `null` or `""`). Numbers and
    /// booleans become their JSON text (`42`, `true`).
    public static func tags(_ inputs: [String: JSONValue]) throws(IngestionError) -> [String: String?] {
        let problem = "\"tags\" must be a JSON object of tag names to strings, numbers or booleans, such as {\"plan\": \"pro\", \"score\": 3}"
        let object: [String: JSONValue]
        switch inputs["tags"] {
        case .string(let text)?:
            guard let parsed = try? JSONValue.parse(Array(text.utf8)) else {
                throw .badRequest("invalid_action", "\"tags\" is not valid JSON; \(problem)")
            }
            guard let parsedObject = parsed.objectValue else { throw .badRequest("invalid_action", problem) }
            object = parsedObject
        case .object(let value)?:
            object = value
        default:
            throw .badRequest("invalid_action", "the input \"tags\" is required; \(problem)")
        }
        guard !object.isEmpty else { throw .badRequest("invalid_action", "\"tags\" is empty; \(problem)") }
        guard object.count <= maximumTags else {
            throw .badRequest("invalid_action", "\"tags\" holds \(object.count) tags; OneSignal takes at most \(maximumTags) per update")
        }
        var tags: [String: String?] = [:]
        for (name, value) in object {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.utf8.count <= 128 else {
                throw .badRequest("invalid_action", "tag names must be 1 to 128 characters")
            }
            switch value {
            case .null: tags.updateValue(nil, forKey: name)
            case .string(let text): tags.updateValue(text.isEmpty ? nil : text, forKey: name)
            case .int, .double, .bool: tags.updateValue(value.scalarText, forKey: name)
            case .object, .array:
                throw .badRequest("invalid_action", "the tag \"\(name)\" holds a nested value; \(problem)")
            }
        }
        return tags
    }
}

/// Validates OneSignal Event Stream deliveries (`shared/contracts/onesignal.md` §8.1): one event per request, in
/// the flat template docs/http-api.md documents (`event_id`, `kind`, `timestamp`, …) or with the docs' dotted keys
/// (`event.id`, `event.kind`, …).
public enum OneSignalEventParser {
    /// The longest `event_id`, `external_id`, `onesignal_id` or `message_id`: 1 KB (they become index keys of the event
    /// log, which PostgreSQL limits to about 2.7 KB).
    public static let maximumIdentifierBytes = 1024

    public static func parse(_ body: JSONValue, receivedAt: Date) throws(IngestionError) -> InboundEvent {
        guard let object = body.objectValue else {
            throw .badRequest("invalid_body", "a OneSignal event must be a JSON object")
        }
        func field(_ flat: String, _ dotted: String) -> JSONValue? { Self.field(object, flat, dotted) }
        guard let eventID = field("event_id", "event.id")?.identifierValue else {
            throw .badRequest("invalid_event", "\"event_id\" is required")
        }
        for (flat, dotted) in [("event_id", "event.id"), ("external_id", "event.external_id"), ("onesignal_id", "event.onesignal_id"), ("message_id", "message.id")] {
            if let value = field(flat, dotted)?.identifierValue, value.utf8.count > maximumIdentifierBytes {
                throw .badRequest("invalid_event", "\"\(flat)\" is \(value.utf8.count) bytes; the limit is \(maximumIdentifierBytes) bytes")
            }
        }
        guard let kind = field("kind", "event.kind")?.stringValue, kind.hasPrefix("message."),
            kind.allSatisfy({ $0.isLetter || $0 == "." || $0 == "_" })
        else {
            throw .badRequest("invalid_event", "\"kind\" must be a OneSignal message event kind such as message.push.clicked")
        }
        var occurredAt = receivedAt
        if let datetime = field("datetime", "event.datetime")?.stringValue, let parsed = ISO8601Timestamp.parse(datetime),
            ISO8601Timestamp.isStorable(parsed)
        {
            occurredAt = parsed
        } else if let timestamp = field("timestamp", "event.timestamp") {
            let seconds: Double?
            switch timestamp {
            case .int(let value): seconds = Double(value)
            case .double(let value): seconds = value
            case .string(let text): seconds = Double(text)
            default: seconds = nil
            }
            guard let seconds, case let date = Date(timeIntervalSince1970: seconds), ISO8601Timestamp.isStorable(date) else {
                throw .badRequest("invalid_event", "\"timestamp\" must be unix seconds (between the years 1 and 9999)")
            }
            occurredAt = date
        }
        let stream: String
        if let externalID = field("external_id", "event.external_id")?.identifierValue {
            stream = "user:" + externalID
        } else if let onesignalID = field("onesignal_id", "event.onesignal_id")?.identifierValue {
            stream = "onesignal-user:" + onesignalID
        } else if let messageID = field("message_id", "message.id")?.identifierValue {
            stream = "onesignal-message:" + messageID
        } else {
            stream = "onesignal-event:" + eventID
        }
        return InboundEvent(
            index: 0, type: .oneSignal(kind), stream: stream, idempotencyKey: eventID, occurredAt: occurredAt, payload: body)
    }

    /// A field of a delivery in the flat template (`external_id`) or the dotted one (`event.external_id`, or nested
    /// under `event`); blank counts as absent.
    public static func field(_ object: [String: JSONValue], _ flat: String, _ dotted: String) -> JSONValue? {
        let value = object[flat] ?? object[dotted] ?? object["event"]?[dotted.replacingOccurrences(of: "event.", with: "")]
        if value?.stringValue == "" { return nil }
        return value
    }
}
