import Domain
import Foundation
import Ingestion
import PQ
import Projections

extension DeliveryLedger {
    /// A HubSpot company claimed for a push.
    public struct ClaimedCompany: Sendable, Hashable {
        public var companyID: String
        public var groupID: String
        public var domain: String?
        public var hubSpotCompanyID: String?
        public var updatedPosition: Int64
        public var desired: [String: JSONValue]
        public var acknowledged: [String: JSONValue]
        public var desiredHash: String
        public var attempts: Int
    }

    /// Claims up to `limit` companies whose HubSpot properties differ from what HubSpot acknowledged.
    ///
    /// - Parameter holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    public func claimHubSpotCompanies(
        limit: Int, linger: Duration, lease: Duration, owner: String, holder: Int64? = nil
    ) async throws -> [ClaimedCompany] {
        let rule = ClaimRule.dueOrChanged()
        let lingered: PQQuery = "(\(fragment: ReadModel.projectedUntil)) - make_interval(secs => \(Self.seconds(linger)))"
        let candidates: PQQuery = """
            SELECT company_id AS object_key, desired_hash FROM (
                SELECT co.company_id, co.last_seen_at, md5(co.hubspot_properties::text) AS desired_hash
                FROM \(table: .companies) co
                LEFT JOIN LATERAL (
                    SELECT * FROM deliveries d
                    WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.company) AND d.object_key = co.company_id
                    OFFSET 0
                ) d ON true
                WHERE co.hubspot_pending AND co.group_id IS NOT NULL AND co.group_id <> ''
                  AND co.last_seen_at <= \(fragment: lingered)
                  AND (d.object_key IS NULL OR \(fragment: rule.allows("d", desiredHash: "md5(co.hubspot_properties::text)")))
                UNION ALL
                -- Not pending by the read model, but a retry is due or a dead worker's lease expired: the outcome
                -- of an earlier attempt is unknown, so the desired values go out again.
                SELECT co.company_id, co.last_seen_at, md5(co.hubspot_properties::text)
                FROM deliveries d
                JOIN \(table: .companies) co ON co.company_id = d.object_key
                WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.company)
                  AND \(fragment: ClaimRule.due.allows("d", desiredHash: ""))
                  AND NOT co.hubspot_pending AND co.group_id IS NOT NULL AND co.group_id <> ''
                  AND co.last_seen_at <= \(fragment: lingered)
            ) due
            ORDER BY last_seen_at
            LIMIT \(Int64(limit))
            """
        // Planned for its values each time: a cached generic plan of this statement was far slower.
        let statement = Self.claimStatement(candidates, kind: .company, rule: rule, lease: lease, owner: owner, holder: holder)
        let claimed = try await claim(statement.planEachTime(), name: "delivery.claim_hubspot_companies")
        guard !claimed.isEmpty else { return [] }
        let attempts = Dictionary(claimed.map { ($0.key, $0.attempts) }, uniquingKeysWith: { first, _ in first })
        let rows = try await client.query(
            """
            SELECT co.company_id, co.group_id, co.domain, co.hubspot_company_id, co.updated_position, co.hubspot_properties,
                   COALESCE(d.acknowledged, co.hubspot_acknowledged), md5(co.hubspot_properties::text)
            FROM \(table: .companies) co
            LEFT JOIN LATERAL (
                SELECT d.acknowledged FROM deliveries d
                WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.company) AND d.object_key = co.company_id
                OFFSET 0
            ) d ON true
            WHERE co.company_id = ANY(\(Array(attempts.keys))::text[])
            """, name: "delivery.load_hubspot_companies")
        var companies: [ClaimedCompany] = []
        var found: Set<String> = []
        for row in rows {
            let (id, groupID, domain, hubSpotID, position, desired, acknowledged, hash) =
                try row.decode((String, String, String?, String?, Int64, PQJSONB, PQJSONB?, String).self)
            found.insert(id)
            companies.append(
                ClaimedCompany(
                    companyID: id, groupID: groupID, domain: domain, hubSpotCompanyID: hubSpotID, updatedPosition: position,
                    desired: Self.object(desired), acknowledged: acknowledged.map(Self.object) ?? [:], desiredHash: hash,
                    attempts: attempts[id] ?? 0))
        }
        try await forget(.company, Set(attempts.keys).subtracting(found), owner: owner, holder: holder)
        return companies
    }

    /// A contact → company association claimed for a push: both HubSpot ids are known.
    public struct ClaimedAssociation: Sendable, Hashable {
        /// `<contact_id> <company_id>`.
        public var key: String
        public var contactID: String
        public var companyID: String
        public var groupID: String
        public var hubSpotContactID: String
        public var hubSpotCompanyID: String
        /// md5 of the two HubSpot ids: the "desired values" of an association.
        public var desiredHash: String
        /// Whether HubSpot holds no association of this contact with a company yet (the first becomes its primary one).
        public var isFirst: Bool
        public var attempts: Int
    }

    /// Claims up to `limit` contact → company links that HubSpot does not hold yet and whose two sides HubSpot knows.
    ///
    /// - Parameter holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    public func claimHubSpotAssociations(
        limit: Int, lease: Duration, owner: String, holder: Int64? = nil
    ) async throws -> [ClaimedAssociation] {
        let rule = ClaimRule.dueOrChanged()
        let candidates: PQQuery = """
            SELECT cc.contact_id || ' ' || cc.company_id AS object_key,
                   md5(c.hubspot_contact_id || ' ' || co.hubspot_company_id) AS desired_hash
            FROM \(table: .contactCompanies) cc
            JOIN \(table: .contacts) c ON c.contact_id = cc.contact_id
            JOIN \(table: .companies) co ON co.company_id = cc.company_id
            LEFT JOIN LATERAL (
                SELECT * FROM deliveries d
                WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.association)
                  AND d.object_key = cc.contact_id || ' ' || cc.company_id
                OFFSET 0
            ) d ON true
            WHERE NOT cc.hubspot_associated AND c.hubspot_contact_id IS NOT NULL AND co.hubspot_company_id IS NOT NULL
              AND (d.object_key IS NULL
                   OR \(fragment: rule.allows("d", desiredHash: "md5(c.hubspot_contact_id || ' ' || co.hubspot_company_id)")))
            LIMIT \(Int64(limit))
            """
        let claimedLinks: PQQuery = """
            SELECT cl.object_key, cl.attempts, cc.contact_id, cc.company_id, co.group_id, c.hubspot_contact_id,
                   co.hubspot_company_id, md5(c.hubspot_contact_id || ' ' || co.hubspot_company_id),
                   NOT EXISTS (SELECT 1 FROM \(table: .contactCompanies) x WHERE x.contact_id = cc.contact_id AND x.hubspot_associated)
            FROM claimed cl
            JOIN \(table: .contactCompanies) cc ON cc.contact_id || ' ' || cc.company_id = cl.object_key
            JOIN \(table: .contacts) c ON c.contact_id = cc.contact_id
            JOIN \(table: .companies) co ON co.company_id = cc.company_id
            """
        // Planned for its values each time: a cached generic plan of this statement was far slower.
        let statement = Self.claimStatement(
            candidates, kind: .association, rule: rule, lease: lease, owner: owner, holder: holder, select: claimedLinks)
        let rows = try await client.query(statement.planEachTime(), name: "delivery.claim_hubspot_associations")
        return try rows.map { row in
            let (key, attempts, contactID, companyID, groupID, hubSpotContactID, hubSpotCompanyID, hash, isFirst) =
                try row.decode((String, Int32, String, String, String, String, String, String, Bool).self)
            return ClaimedAssociation(
                key: key, contactID: contactID, companyID: companyID, groupID: groupID, hubSpotContactID: hubSpotContactID,
                hubSpotCompanyID: hubSpotCompanyID, desiredHash: hash, isFirst: isFirst, attempts: Int(attempts))
        }
    }

    /// Drops claims of objects that vanished between claiming and loading them (merged away, or a rebuild swap).
    func forget(_ kind: DeliveryKind, _ keys: Set<String>, owner: String, holder: Int64?) async throws {
        guard !keys.isEmpty else { return }
        try await client.execute(
            """
            DELETE FROM deliveries WHERE destination = \(kind.destination) AND object_kind = \(kind)
              AND object_key = ANY(\(Array(keys))::text[]) AND lease_owner = \(owner) AND holder IS NOT DISTINCT FROM \(holder)::int8
            """, name: "delivery.forget_vanished")
    }
}
