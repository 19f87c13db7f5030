import EventStore
import Foundation
import Ingestion
import PQ

extension DeliveryLedger {
    /// A queued behavioral event, note or timeline event claimed for sending, with the contact its identities resolve to now.
    public struct ClaimedEvent: Sendable, Hashable {
        /// `behavioral_event`, `note` or `timeline_event`.
        public var kind: String
        public var position: Int64
        public var eventName: String
        public var properties: [String: String]
        public var occurredAt: Date
        public var uuid: String
        /// The contact, and how HubSpot can find it (its HubSpot id, else its email); `nil` while unknown.
        public var contactID: String?
        public var hubSpotContactID: String?
        public var email: String?
        public var attempts: Int
    }

    /// Claims up to `limit` queued behavioral events, oldest first.
    public func claimHubSpotEvents(limit: Int, lease: Duration, owner: String) async throws -> [ClaimedEvent] {
        let claimed = try await client.query(
            """
            WITH candidates AS (
                SELECT o.position::text AS object_key
                FROM hubspot_event_outbox o
                LEFT JOIN LATERAL (
                    SELECT * FROM deliveries d
                    WHERE d.destination = 'hubspot' AND d.object_kind = 'event' AND d.object_key = o.position::text
                    OFFSET 0
                ) d ON true
                WHERE d.object_key IS NULL
                   OR (d.state = 'queued' AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now()))
                ORDER BY o.position
                LIMIT \(Int64(limit))
            )
            INSERT INTO deliveries AS d (destination, object_kind, object_key, state, attempts, next_attempt_at, leased_until,
                lease_owner, updated_at)
            SELECT 'hubspot', 'event', object_key, 'queued', 0, now(), now() + make_interval(secs => \(Self.seconds(lease))),
                   \(owner), now()
            FROM candidates
            ON CONFLICT (destination, object_kind, object_key) DO UPDATE
                SET leased_until = EXCLUDED.leased_until, lease_owner = EXCLUDED.lease_owner, updated_at = now()
                WHERE d.state = 'queued' AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
            RETURNING object_key, attempts
            """, name: "delivery.claim_hubspot_events")
        guard !claimed.isEmpty else { return [] }
        var attempts: [Int64: Int] = [:]
        for row in claimed {
            let (key, count) = try row.decode((String, Int32).self)
            if let position = Int64(key) { attempts[position] = Int(count) }
        }
        let rows = try await client.query(
            """
            SELECT o.position, o.event_name, o.properties, o.occurred_at, o.uuid, c.contact_id, c.hubspot_contact_id, c.email,
                   o.kind
            FROM hubspot_event_outbox o
            LEFT JOIN LATERAL (
                SELECT i.contact_id FROM identities i
                WHERE (i.kind = 'user_id' AND i.value = o.user_id) OR (i.kind = 'email' AND i.value = o.email)
                   OR (i.kind = 'anonymous_id' AND i.value = o.anonymous_id)
                ORDER BY CASE i.kind WHEN 'user_id' THEN 0 WHEN 'email' THEN 1 ELSE 2 END
                LIMIT 1
            ) r ON true
            LEFT JOIN contacts c ON c.contact_id = r.contact_id
            WHERE o.position = ANY(\(Array(attempts.keys))::bigint[])
            ORDER BY o.position
            """, name: "delivery.load_hubspot_events")
        return try rows.map { row in
            let (position, name, properties, occurredAt, uuid, contactID, hubSpotID, email) =
                try row.decode((Int64, String, PQJSONB, Date, String, String?, String?, String?).self)
            let values = (try? JSONValue.parse(properties.bytes))?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            return ClaimedEvent(
                kind: try row.decode(String.self, at: 8), position: position, eventName: name, properties: values, occurredAt: occurredAt, uuid: uuid, contactID: contactID,
                hubSpotContactID: hubSpotID, email: email, attempts: attempts[position] ?? 0)
        }
    }

    /// Removes sent events from the outbox and the ledger, records the others' outcomes (retry, dead), and appends
    /// `events` (failures), in one transaction.
    public func finishEvents(
        sent: [Int64], outcomes: [String: Outcome], events: [NewEvent], owner: String, store: EventStore
    ) async throws {
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            if !sent.isEmpty {
                try await connection.execute(
                    "DELETE FROM hubspot_event_outbox WHERE position = ANY(\(sent)::bigint[])", name: "delivery.events_sent")
                try await connection.execute(
                    """
                    DELETE FROM deliveries WHERE destination = 'hubspot' AND object_kind = 'event'
                      AND object_key = ANY(\(sent.map(String.init))::text[])
                    """, name: "delivery.events_sent_ledger")
            }
            try await record(outcomes, kind: "event", destination: "hubspot", owner: owner, on: connection)
        }
    }
}
