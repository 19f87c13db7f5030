import Domain
import EventStore
import Foundation
import Ingestion
import PQ
import Projections

extension DeliveryLedger {
    /// A queued behavioral event, note, timeline event or custom object record claimed for sending, with the contact its
    /// identities resolve to now.
    public struct ClaimedEvent: Sendable, Hashable {
        public var kind: HubSpotEventOutbox.Kind
        public var position: Int64
        /// The row's ledger key (`deliveries.object_key`): the position, or `position:rule` for a custom object record.
        public var key: String
        /// The `custom_objects` rule that queued a custom object record; `""` for the other kinds.
        public var rule: String
        /// The HubSpot id of the company the message's group id resolves to now (custom object records).
        public var hubSpotCompanyID: String?
        public var eventName: String
        public var properties: [String: String]
        public var occurredAt: Date
        public var uuid: String
        /// The contact, and how HubSpot can find it (its HubSpot id, else its email); `nil` while unknown.
        public var contactID: String?
        public var hubSpotContactID: String?
        public var email: String?
        /// The HubSpot user token the call carried (`behavioral_events.utk_from`); `nil` when none.
        public var utk: String? = nil
        public var attempts: Int
        /// Whether this claim took the row over from a worker that died holding it: that worker's request may still be
        /// on its way (a note then waits before it is looked for).
        public var followsLostAttempt: Bool = false
    }

    /// Claims up to `limit` queued behavioral events, oldest first.
    ///
    /// Taking over a lapsed claim (its worker died, or its lease expired) counts as an attempt: its outcome is
    /// unknown, so a note is looked for before it is created again.
    ///
    /// - Parameter holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    public func claimHubSpotEvents(limit: Int, lease: Duration, owner: String, holder: Int64? = nil) async throws -> [ClaimedEvent] {
        let candidates: PQQuery = """
            SELECT o.delivery_key AS object_key, d.leased_until IS NOT NULL AS lost
            FROM hubspot_event_outbox o
            LEFT JOIN LATERAL (
                SELECT * FROM deliveries d
                WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.event) AND d.object_key = o.delivery_key
                OFFSET 0
            ) d ON true
            WHERE d.object_key IS NULL OR \(fragment: ClaimRule.due.allows("d", desiredHash: ""))
            ORDER BY o.position, o.rule
            LIMIT \(Int64(limit))
            """
        // Planned for its values each time: a cached generic plan of this statement was far slower.
        let statement = Self.claimStatement(
            candidates, kind: .event, rule: .due, lease: lease, owner: owner, holder: holder,
            select: "SELECT cl.object_key, cl.attempts, ca.lost FROM claimed cl JOIN candidates ca USING (object_key)")
        let claimed = try await client.query(statement.planEachTime(), name: "delivery.claim_hubspot_events")
        guard !claimed.isEmpty else { return [] }
        var attempts: [String: Int] = [:]
        var lost: Set<String> = []
        for row in claimed {
            let (key, count, wasLost) = try row.decode((String, Int32, Bool).self)
            attempts[key] = Int(count)
            if wasLost { lost.insert(key) }
        }
        let rows = try await client.query(
            """
            SELECT o.position, o.event_name, o.properties, o.occurred_at, o.uuid, c.contact_id, c.hubspot_contact_id, c.email,
                   o.kind, o.delivery_key, o.rule, g.hubspot_company_id, o.email, o.utk
            FROM hubspot_event_outbox o
            LEFT JOIN LATERAL (
                SELECT i.contact_id FROM \(table: .identities) i
                WHERE (i.kind = 'user_id' AND i.value = o.user_id) OR (i.kind = 'email' AND i.value = o.email)
                   OR (i.kind = 'anonymous_id' AND i.value = o.anonymous_id)
                   -- A OneSignal external id held by a HubSpot contact property (onesignal.external_id_property).
                   OR (i.kind = 'external_id' AND i.value = o.user_id)
                ORDER BY CASE i.kind WHEN 'user_id' THEN 0 WHEN 'external_id' THEN 1 WHEN 'email' THEN 2 ELSE 3 END
                LIMIT 1
            ) r ON true
            LEFT JOIN \(table: .contacts) c ON c.contact_id = r.contact_id
            LEFT JOIN LATERAL (
                SELECT co.hubspot_company_id FROM \(table: .companyIdentities) ci JOIN \(table: .companies) co ON co.company_id = ci.company_id
                WHERE ci.kind = 'group_id' AND ci.value = o.group_id
                LIMIT 1
            ) g ON true
            WHERE o.delivery_key = ANY(\(Array(attempts.keys))::text[])
            ORDER BY o.position, o.rule
            """, name: "delivery.load_hubspot_events")
        return try rows.map { row in
            let (position, name, properties, occurredAt, uuid, contactID, hubSpotID, email) =
                try row.decode((Int64, String, PQJSONB, Date, String, String?, String?, String?).self)
            let values = (try? JSONValue.parse(properties.bytes))?.objectValue?.compactMapValues(\.stringValue) ?? [:]
            let (kind, key, rule, companyID) = (
                try row.decode(HubSpotEventOutbox.Kind.self, at: 8), try row.decode(String.self, at: 9), try row.decode(String.self, at: 10),
                try row.decode(String?.self, at: 11)
            )
            // The call's own email and user token name the contact when HubSignal knows none (issue 22 item 9).
            let (ownEmail, utk) = (try row.decode(String?.self, at: 12), try row.decode(String?.self, at: 13))
            return ClaimedEvent(
                kind: kind, position: position, key: key, rule: rule, hubSpotCompanyID: companyID, eventName: name,
                properties: values, occurredAt: occurredAt, uuid: uuid, contactID: contactID, hubSpotContactID: hubSpotID,
                email: email ?? ownEmail, utk: utk, attempts: attempts[key] ?? 0, followsLostAttempt: lost.contains(key))
        }
    }

    /// Removes sent rows from the outbox and the ledger, records the others' outcomes (retry, dead), and appends
    /// `events` (results and failures), in one transaction.
    ///
    /// - Parameters:
    ///   - sent: the positions of sent behavioral events, notes and timeline events (rows without a rule).
    ///   - outcomes: by ledger key (`ClaimedEvent.key`); `.done` marks a row as sent too (custom object records, whose
    ///     key is not a position alone).
    ///   - holder: the ``ClaimHolder`` token the rows were claimed with (`nil`: none).
    public func finishEvents(
        sent: [Int64], outcomes: [String: Outcome], events: [NewEvent], owner: String, holder: Int64? = nil, store: EventStore
    ) async throws {
        let done = sent.map(String.init) + outcomes.compactMap { key, outcome in
            if case .done = outcome { return key } else { return nil }
        }
        let pending = outcomes.filter { key, outcome in
            if case .done = outcome { return false } else { return true }
        }
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            if !done.isEmpty {
                try await connection.execute(
                    "DELETE FROM hubspot_event_outbox WHERE delivery_key = ANY(\(done)::text[])", name: "delivery.events_sent")
                try await connection.execute(
                    """
                    DELETE FROM deliveries WHERE destination = \(Destination.hubspot) AND object_kind = \(DeliveryKind.event)
                      AND object_key = ANY(\(done)::text[])
                    """, name: "delivery.events_sent_ledger")
            }
            try await record(pending, kind: .event, owner: owner, holder: holder, on: connection)
        }
    }
}
