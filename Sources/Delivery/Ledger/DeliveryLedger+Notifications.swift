import Domain
import EventStore
import Foundation
import Ingestion
import PQ
import Projections

extension DeliveryLedger {
    /// A workflow notification claimed for sending (a row of `onesignal_outbox`).
    public struct ClaimedNotification: Sendable, Hashable {
        public var callbackID: String
        public var position: Int64
        public var hubSpotObjectID: String
        public var externalID: String?
        public var email: String?
        public var request: [String: JSONValue]
        /// OneSignal's answer when the notification already went out (only the workflow completion is left).
        public var result: [String: JSONValue]?
        public var attempts: Int
        /// When HubSpot called the action (the action's occurrence): its age is measured from then.
        public var receivedAt: Date
    }

    /// Claims up to `limit` queued notifications of `app` that no live claim or backoff holds, oldest first. Taking
    /// over a lapsed claim (its worker died, or its lease expired) counts as an attempt: its outcome is unknown.
    func claimNotifications(app: String, limit: Int, lease: Duration, owner: String, holder: Int64?) async throws -> [ClaimedNotification] {
        let candidates: PQQuery = """
            SELECT o.callback_id AS object_key FROM onesignal_outbox o
            LEFT JOIN LATERAL (
                SELECT * FROM deliveries d
                WHERE d.destination = \(Destination.onesignal) AND d.object_kind = \(DeliveryKind.notification)
                  AND d.object_key = o.callback_id
                OFFSET 0
            ) d ON true
            WHERE o.app = \(app) AND (d.object_key IS NULL OR \(fragment: ClaimRule.due.allows("d", desiredHash: "")))
            ORDER BY o.position
            LIMIT \(Int64(limit))
            """
        let statement = Self.claimStatement(candidates, kind: .notification, rule: .due, lease: lease, owner: owner, holder: holder)
        let claimed = try await claim(statement.planEachTime(), name: "delivery.claim_onesignal_notifications")
        guard !claimed.isEmpty else { return [] }
        let attempts = Dictionary(claimed.map { ($0.key, $0.attempts) }, uniquingKeysWith: { first, _ in first })
        let rows = try await client.query(
            """
            SELECT callback_id, position, hubspot_object_id, external_id, email, request, result, received_at
            FROM onesignal_outbox WHERE callback_id = ANY(\(Array(attempts.keys))::text[]) ORDER BY position
            """, name: "delivery.load_onesignal_notifications")
        return try rows.map { row in
            let (callbackID, position, objectID, externalID, email, request, result) =
                try row.decode((String, Int64, String, String?, String?, PQJSONB, PQJSONB?).self)
            return ClaimedNotification(
                callbackID: callbackID, position: position, hubSpotObjectID: objectID, externalID: externalID, email: email,
                request: Self.object(request), result: result.map(Self.object), attempts: attempts[callbackID] ?? 0,
                receivedAt: try row.decode(Date.self, at: 7))
        }
    }

    /// The OneSignal external id of a HubSpot workflow's contact: given as `external_id`, or that of the contact with
    /// that email or HubSpot id in the read models: the value of `externalIDProperty` (the mapping's
    /// `onesignal.external_id_property`) when it has one, else its `userId` (or email, with `byEmail`). `nil` when none
    /// is known.
    func externalID(for notification: ClaimedNotification, byEmail: Bool, externalIDProperty: String? = nil) async throws -> String? {
        if let externalID = notification.externalID { return externalID }
        if byEmail, externalIDProperty == nil, let email = notification.email { return email }
        let rows = try await client.query(
            """
            SELECT c.user_id, c.email,
                COALESCE(NULLIF(btrim(c.hubspot_values ->> \(externalIDProperty ?? "")::text), ''),
                    NULLIF(btrim(c.hubspot_properties ->> \(externalIDProperty ?? "")::text), ''))
            FROM \(table: .identities) i JOIN \(table: .contacts) c ON c.contact_id = i.contact_id
            WHERE (i.kind = 'email' AND i.value = \(notification.email)) OR (i.kind = 'hubspot_id' AND i.value = \(notification.hubSpotObjectID))
            ORDER BY i.kind = 'email' DESC LIMIT 1
            """, name: "delivery.notification_recipient")
        guard let row = rows.first else { return byEmail ? notification.email : nil }
        let (userID, email, propertyValue) = try row.decode((String?, String?, String?).self)
        if externalIDProperty != nil, let propertyValue { return propertyValue }
        return byEmail ? email ?? notification.email : userID
    }

    /// The email of a HubSpot workflow's contact: given as `email`, else that of the contact with that HubSpot id in
    /// the read models; `nil` when none is known.
    func email(for notification: ClaimedNotification) async throws -> String? {
        if let email = notification.email { return email }
        let rows = try await client.query(
            """
            SELECT c.email FROM \(table: .identities) i JOIN \(table: .contacts) c ON c.contact_id = i.contact_id
            WHERE i.kind = 'hubspot_id' AND i.value = \(notification.hubSpotObjectID) LIMIT 1
            """, name: "delivery.notification_email")
        guard let row = rows.first else { return nil }
        return try row.decode(String?.self)
    }

    /// Whether the people projection has read the event at `position` (so a contact it does not know is unknown).
    func projected(past position: Int64) async throws -> Bool {
        let rows = try await client.query(
            "SELECT \(fragment: ReadModel.hasProjected(position: position))", name: "delivery.people_checkpoint")
        return try rows[0].decode(Bool.self, at: 0)
    }

    /// Appends `events` (when not already in the log) and records OneSignal's answer on the outbox row, in one
    /// transaction: after it, a retry only completes the workflow action, it never sends again.
    func recordNotification(callbackID: String, result: [String: JSONValue]?, events: [NewEvent], store: EventStore) async throws {
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            if let result {
                try await connection.execute(
                    """
                    UPDATE onesignal_outbox SET result = \(PQJSONB(bytes: (try? JSONValue.object(result).serialized()) ?? Array("{}".utf8)))
                    WHERE callback_id = \(callbackID)
                    """, name: "delivery.notification_result")
            }
        }
    }

    /// Finishes notifications: outcomes into the ledger, `events` appended, and the rows of finished (done) ones removed
    /// from the outbox, in one transaction.
    func finishNotifications(
        outcomes: [String: Outcome], events: [NewEvent], owner: String, holder: Int64?, store: EventStore
    ) async throws {
        let done = outcomes.compactMap { key, outcome -> String? in
            if case .done = outcome { return key }
            return nil
        }
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            try await record(outcomes, kind: .notification, owner: owner, holder: holder, on: connection)
            if !done.isEmpty {
                try await connection.execute(
                    "DELETE FROM onesignal_outbox WHERE callback_id = ANY(\(done)::text[])", name: "delivery.notifications_done")
            }
        }
    }
}
