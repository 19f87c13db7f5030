import EventStore
import Foundation
import Ingestion
import Logging
import Mapping
import PQ

/// The `hubspot-events` subscription: turns Segment track calls (and page/screen calls, when the mapping says so) into
/// rows of `hubspot_event_outbox`, in the transaction of its checkpoint, so each call is queued exactly once. The
/// HubSpot sync sends the rows as custom behavioral events and removes them.
///
/// It starts at the end of the log the first time it runs: enabling behavioral events sends what happens from then
/// on, not the history.
public struct HubSpotEventOutbox: Sendable {
    /// The subscription's name (its checkpoint in `subscription_checkpoints`).
    public static let name = "hubspot-events"

    let mapping: Mapping
    let portalID: String

    public init(mapping: Mapping, portalID: String) {
        self.mapping = mapping
        self.portalID = portalID
    }

    /// Whether the mapping sends anything as behavioral events.
    public var isEnabled: Bool {
        mapping.behavioralEvents.enabled || mapping.pageViews.pages != .off || mapping.pageViews.screens != .off
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
        var position: Int64
        var eventName: String
        var properties: [String: String]
        var occurredAt: Date
        var userID: String?
        var anonymousID: String?
        var email: String?
        var uuid: String
    }

    /// Queues the behavioral events the mapping derives from `events`.
    func queue(_ events: [RecordedEvent], on connection: PQConnection) async throws {
        let rows = events.compactMap(row(for:))
        guard !rows.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO hubspot_event_outbox (position, event_name, properties, occurred_at, user_id, anonymous_id, email, uuid)
            SELECT * FROM unnest(\(rows.map(\.position))::bigint[], \(rows.map(\.eventName))::text[],
                \(rows.map { PQJSONB(bytes: (try? JSONValue.object($0.properties.mapValues(JSONValue.string)).serialized()) ?? []) })::jsonb[],
                \(rows.map(\.occurredAt))::timestamptz[], \(PQNullableArray(rows.map(\.userID)))::text[],
                \(PQNullableArray(rows.map(\.anonymousID)))::text[], \(PQNullableArray(rows.map(\.email)))::text[],
                \(rows.map(\.uuid))::text[])
            ON CONFLICT (position) DO NOTHING
            """, name: "delivery.queue_hubspot_events")
    }

    func row(for event: RecordedEvent) -> Row? {
        let type = event.type
        guard type == "segment.track" || type == "segment.page" || type == "segment.screen",
            let message = (try? JSONValue.parse(event.payload.bytes))?.objectValue
        else { return nil }
        let properties = message["properties"]?.objectValue ?? [:]
        let occurrence: BehavioralEvent?
        if type == "segment.track" {
            guard let name = message["event"]?.stringValue else { return nil }
            occurrence = mapping.behavioralEvents.event(named: name, properties: properties, portalID: portalID)
        } else {
            occurrence = mapping.pageViews.event(
                type: String(type.dropFirst("segment.".count)), name: message["name"]?.stringValue, properties: properties,
                portalID: portalID)
        }
        guard let occurrence else { return nil }
        let traits = message["context"]?["traits"]?.objectValue ?? [:]
        let email = traits["email"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return Row(
            position: event.position, eventName: occurrence.eventName, properties: occurrence.properties,
            occurredAt: event.occurredAt, userID: message["userId"]?.identifierValue,
            anonymousID: message["anonymousId"]?.identifierValue, email: email.flatMap { $0.contains("@") ? $0 : nil },
            uuid: Self.uuid(from: message["messageId"]?.identifierValue ?? event.idempotencyKey))
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
