import Domain
import Foundation
import Ingestion
import PQ
import Projections

extension DeliveryLedger {
    /// A contact claimed for a OneSignal tag push: how to address its user, and its desired and acknowledged tags.
    public struct ClaimedUser: Sendable, Hashable {
        public var contactID: String
        /// The Segment `userId` and the email (the mapping says which one is the external id).
        public var userID: String?
        public var email: String?
        /// The position of the last event that changed the contact (part of result events' idempotency keys).
        public var updatedPosition: Int64
        /// Tag → value (`null`: remove the tag).
        public var desired: [String: JSONValue]
        /// What OneSignal holds, as far as HubSignal knows: the ledger's copy of the last finished push, else the read
        /// model's.
        public var acknowledged: [String: JSONValue]
        public var desiredHash: String
        public var attempts: Int
        /// Whether OneSignal ever acknowledged tags of this contact in this app (a finished push, or a result the read
        /// model recorded); `false` for a contact HubSignal never synced there (or whose acknowledgement `hubsignal
        /// replay` forgot).
        public var everAcknowledged = true
        /// The value of the HubSpot property holding the OneSignal external id (`onesignal.external_id_property`), as
        /// changed in HubSpot, else as HubSignal writes it there; `nil` without the property or a value.
        public var propertyExternalID: String?
        /// The `phone` trait as identify gave it (for an SMS subscription when the mapping asks for one).
        public var phone: String? = nil
    }

    /// Claims up to `limit` contacts whose OneSignal tags differ from what OneSignal acknowledged, unchanged for
    /// `linger`, and not pushed within `spacing` (OneSignal allows one write per second per user: a contact that keeps
    /// changing is pushed at most once per `spacing`, with everything that changed meanwhile).
    ///
    /// Each app has its own ledger rows (``DeliveryKind/user(app:)``): its own leases, retries and dead letters.
    ///
    /// - Parameters:
    ///   - holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    ///   - externalIDProperty: the mapping's `onesignal.external_id_property`, read into ``ClaimedUser/propertyExternalID``.
    public func claimOneSignalUsers(
        app: String, limit: Int, linger: Duration, spacing: Duration, lease: Duration, owner: String, holder: Int64? = nil,
        externalIDProperty: String? = nil
    ) async throws -> [ClaimedUser] {
        let kind = DeliveryKind.user(app: app)
        let attempts = try await claimContacts(
            kind: kind, app: app, limit: limit, linger: linger, spacing: spacing, lease: lease, owner: owner, holder: holder)
        guard !attempts.isEmpty else { return [] }
        let rows = try await client.query(
            """
            SELECT s.contact_id, c.user_id, c.email, c.updated_position, s.desired,
                   COALESCE(d.acknowledged, s.acknowledged), md5(s.desired::text),
                   COALESCE(NULLIF(btrim(c.hubspot_values ->> \(externalIDProperty ?? "")::text), ''),
                       NULLIF(btrim(c.hubspot_properties ->> \(externalIDProperty ?? "")::text), '')),
                   c.traits ->> 'phone'
            FROM \(table: .syncStatus) s JOIN \(table: .contacts) c ON c.contact_id = s.contact_id
            LEFT JOIN LATERAL (
                SELECT d.acknowledged FROM deliveries d
                WHERE d.destination = \(Destination.onesignal) AND d.object_kind = \(kind) AND d.object_key = s.contact_id
                OFFSET 0
            ) d ON true
            WHERE s.destination = \(Destination.onesignal) AND s.app = \(app) AND s.contact_id = ANY(\(Array(attempts.keys))::text[])
            ORDER BY s.updated_at
            """, name: "delivery.load_onesignal_users")
        var users: [ClaimedUser] = []
        var found: Set<String> = []
        for row in rows {
            let (id, userID, email, position, desired, acknowledged, hash) =
                try row.decode((String, String?, String?, Int64, PQJSONB, PQJSONB?, String).self)
            let propertyExternalID = externalIDProperty == nil ? nil : try row.decode(String?.self, at: 7)
            let phone = try row.decode(String?.self, at: 8)
            found.insert(id)
            users.append(
                ClaimedUser(
                    contactID: id, userID: userID, email: email, updatedPosition: position, desired: Self.object(desired),
                    acknowledged: acknowledged.map(Self.object) ?? [:], desiredHash: hash, attempts: attempts[id] ?? 0,
                    everAcknowledged: acknowledged != nil, propertyExternalID: propertyExternalID, phone: phone))
        }
        try await forget(kind, Set(attempts.keys).subtracting(found), owner: owner, holder: holder)
        return users
    }
}
