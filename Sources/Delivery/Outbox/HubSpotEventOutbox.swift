import Domain
import EventStore
import Foundation
import Ingestion
import Logging
import Mapping
import PQ

/// The `hubspot-events` subscription: turns Segment track calls (and page/screen calls, when the mapping says so) and
/// OneSignal message events bound for the HubSpot timeline (`hubspot_timeline`) into rows of `hubspot_event_outbox`,
/// in the transaction of its checkpoint, so each is queued exactly once. The HubSpot sync sends the rows (custom
/// behavioral events, notes or timeline events) and removes them.
///
/// It starts at the end of the log the first time it runs: enabling behavioral events sends what happens from then
/// on; the history is sent on request by a backfill (``HubSpotEventBackfill``, `hubsignal replay --events`).
public struct HubSpotEventOutbox: Sendable {
    /// The subscription's name (its checkpoint in `subscription_checkpoints`).
    public static let name = "hubspot-events"

    /// What an outbox row becomes in HubSpot (`hubspot_event_outbox.kind`; the raw value is the stored text).
    public enum Kind: String, Sendable, Hashable, PQDecodable {
        case behavioralEvent = "behavioral_event"
        case note
        case timelineEvent = "timeline_event"
        case customObject = "custom_object"

        public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
            guard let kind = Kind(rawValue: try String(pqText: bytes, typeOID: typeOID)) else {
                throw PQDecodingFailure.invalidText(expected: "an outbox kind")
            }
            self = kind
        }
    }

    let mapping: Mapping
    /// The HubSpot account id; without it nothing is sent as a behavioral event (their names need it).
    let portalID: String?

    public init(mapping: Mapping, portalID: String?) {
        self.mapping = mapping
        self.portalID = portalID
    }

    /// Whether the mapping sends behavioral events (which need a portal id).
    public var sendsBehavioralEvents: Bool {
        mapping.behavioralEvents.enabled || mapping.pageViews.pages != .off || mapping.pageViews.screens != .off
            || mapping.timeline.mode == .behavioralEvent
    }

    /// Whether anything is queued at all.
    public var isEnabled: Bool {
        (portalID != nil && sendsBehavioralEvents) || mapping.timeline.mode == .note || mapping.timeline.mode == .timelineEvent
            || !mapping.customObjects.isEmpty
    }

    /// The subscription that fills the outbox.
    public func makeSubscription(store: EventStore, watcher: LogWatcher, logger: Logger) -> Subscription {
        var configuration = Subscription.Configuration(name: Self.name)
        configuration.startPosition = .current
        configuration.batchSize = 1000
        return Subscription(configuration: configuration, store: store, watcher: watcher, logger: logger) { events, connection in
            try await queue(events, on: connection)
        }
    }

    /// One queued occurrence.
    struct Row {
        var kind = Kind.behavioralEvent
        var position: Int64
        /// The `custom_objects` rule that queued the row; `""` for the other kinds.
        var rule = ""
        /// The Segment group id the message named (custom object records associated with a company).
        var groupID: String?
        var eventName: String
        var properties: [String: String]
        var occurredAt: Date
        var userID: String?
        var anonymousID: String?
        var email: String?
        var uuid: String
        /// The HubSpot user token the call carried (`behavioral_events.utk_from`).
        var utk: String?
    }

    /// Queues the behavioral events the mapping derives from `events`; returns how many rows were new.
    ///
    /// A row is queued once ever: `hubspot_event_queued` keeps every (position, rule) queued, by this subscription or a
    /// backfill (``HubSpotEventBackfill``), so the other skips it, even after it was sent and removed.
    @discardableResult
    func queue(_ events: [RecordedEvent], on connection: PQConnection) async throws -> Int {
        let rows = events.compactMap(row(for:)) + events.flatMap(customObjectRows(for:))
        guard !rows.isEmpty else { return 0 }
        let inserted = try await connection.query(
            """
            WITH fresh AS (
                INSERT INTO hubspot_event_queued (position, rule)
                SELECT * FROM unnest(\(rows.map(\.position))::bigint[], \(rows.map(\.rule))::text[])
                ON CONFLICT (position, rule) DO NOTHING
                RETURNING position, rule
            )
            INSERT INTO hubspot_event_outbox (kind, position, rule, group_id, event_name, properties, occurred_at, user_id,
                anonymous_id, email, uuid, utk)
            SELECT r.kind, r.position, r.rule, r.group_id, r.event_name, r.properties, r.occurred_at, r.user_id, r.anonymous_id,
                r.email, r.uuid, r.utk
            FROM unnest(\(rows.map(\.kind.rawValue))::text[], \(rows.map(\.position))::bigint[], \(rows.map(\.rule))::text[],
                \(PQNullableArray(rows.map(\.groupID)))::text[], \(rows.map(\.eventName))::text[],
                \(rows.map { PQJSONB(bytes: (try? JSONValue.object($0.properties.mapValues(JSONValue.string)).serialized()) ?? []) })::jsonb[],
                \(rows.map(\.occurredAt))::timestamptz[], \(PQNullableArray(rows.map(\.userID)))::text[],
                \(PQNullableArray(rows.map(\.anonymousID)))::text[], \(PQNullableArray(rows.map(\.email)))::text[],
                \(rows.map(\.uuid))::text[], \(PQNullableArray(rows.map(\.utk)))::text[])
                AS r(kind, position, rule, group_id, event_name, properties, occurred_at, user_id, anonymous_id, email, uuid, utk)
            JOIN fresh USING (position, rule)
            ON CONFLICT (position, rule) DO NOTHING
            RETURNING position
            """, name: "delivery.queue_hubspot_events")
        return inserted.count
    }

    func row(for event: RecordedEvent) -> Row? {
        let type = event.type
        if type.belongs(to: .oneSignalMessage) { return timelineRow(for: event) }
        guard let portalID, type == .track || type == .page || type == .screen, let call = type.segmentCall,
            let message = (try? JSONValue.parse(event.payload.bytes))?.objectValue
        else { return nil }
        let properties = message["properties"]?.objectValue ?? [:]
        let occurrence: BehavioralEvent?
        if type == .track {
            guard let name = message["event"]?.stringValue else { return nil }
            occurrence = mapping.behavioralEvents.event(named: name, properties: properties, portalID: portalID)
        } else {
            occurrence = mapping.pageViews.event(
                type: call, name: message["name"]?.stringValue, properties: properties,
                portalID: portalID)
        }
        guard let occurrence else { return nil }
        // The contact as Segment's HubSpot destination names it: an email from the call (properties.email, then
        // context.traits.email by default) or the page's HubSpot user token, besides the ids resolved when sent.
        let (email, utk) = mapping.behavioralEvents.identification(of: message)
        return Row(
            position: event.position, eventName: occurrence.eventName, properties: occurrence.properties,
            occurredAt: event.occurredAt, userID: message["userId"]?.identifierValue,
            anonymousID: message["anonymousId"]?.identifierValue, email: email,
            // From the idempotency key, which Segment events scope by write key (`<write key id>:<messageId>`; the bare
            // messageId for events stored before): another source's message with the same messageId is not a repeat.
            uuid: Self.uuid(from: event.idempotencyKey), utk: utk)
    }

    /// A OneSignal message event as a timeline entry, when the mapping writes its kind.
    func timelineRow(for event: RecordedEvent) -> Row? {
        // `<source>.message.<channel>.<kind>` → channel and kind (e.g. push, clicked).
        let parts = event.type.rawValue.split(separator: ".").map(String.init)
        guard parts.count >= 3, let kind = parts.last, mapping.timeline.writes(kind: kind),
            let payload = (try? JSONValue.parse(event.payload.bytes))?.objectValue
        else { return nil }
        func field(_ flat: String, _ dotted: String) -> String? {
            let value = OneSignalEventParser.field(payload, flat, dotted)
            return value?.identifierValue ?? value?["en"]?.stringValue
        }
        let channel = parts.count >= 4 ? parts[2] : "push"
        var properties: [String: String] = ["kind": kind, "channel": channel]
        if let id = field("message_id", "message.id") ?? field("notification_id", "event.notification_id") {
            properties["notification_id"] = id
        }
        if let title = field("title", "message.title") { properties["title"] = String(title.prefix(200)) }
        if let url = field("url", "message.url") { properties["url"] = String(url.prefix(200)) }
        if let app = field("app_id", "event.app_id") { properties["app_id"] = app }
        var row = Row(
            position: event.position, eventName: "onesignal_\(kind)", properties: properties, occurredAt: event.occurredAt,
            userID: nil, anonymousID: nil, email: nil, uuid: Self.uuid(from: event.idempotencyKey))
        if let externalID = field("external_id", "event.external_id") {
            switch mapping.oneSignal.matchBy {
            case .externalID: row.userID = externalID
            case .email: row.email = externalID.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            }
        }
        switch mapping.timeline.mode {
        case .off: return nil
        case .note: row.kind = .note
        case .timelineEvent:
            row.kind = .timelineEvent
            row.eventName = mapping.timeline.templateID ?? ""
        case .behavioralEvent:
            guard let portalID else { return nil }
            row.eventName = "pe\(portalID)_onesignal_\(kind)"
        }
        return row
    }

    /// A UUID-shaped idempotency key derived from the call's messageId (HubSpot expects a UUID).
    static func uuid(from messageID: String) -> String {
        if let uuid = UUID(uuidString: messageID) { return uuid.uuidString.lowercased() }
        // FNV-1a over the id, twice with different seeds, laid out as a version-8 (custom) UUID.
        func fnv(_ seed: UInt64) -> UInt64 {
            var hash = seed
            for byte in messageID.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01B3
            }
            return hash
        }
        let high = fnv(0xCBF2_9CE4_8422_2325)
        let low = fnv(0x8422_2325_CBF2_9CE4)
        let hex = String(format: "%016llx%016llx", high, low)
        let characters = Array(hex)
        var variant = Int(String(characters[16]), radix: 16)! & 0x3
        variant |= 0x8
        return String(characters[0..<8]) + "-" + String(characters[8..<12]) + "-8" + String(characters[13..<16]) + "-"
            + String(variant, radix: 16) + String(characters[17..<20]) + "-" + String(characters[20..<32])
    }
}
