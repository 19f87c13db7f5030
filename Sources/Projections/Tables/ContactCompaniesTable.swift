import Foundation
import Mapping
import PQ

/// `contact_companies`: each contact's links to companies, merged companies followed.
struct ContactCompaniesTable: PeopleTable {
    static let name = "contact_companies"
    static let columns = ["contact_id", "company_id", "first_seen_at", "last_seen_at", "hubspot_associated"]
    let sqlName: String

    /// Inserts or updates the company links of `contacts` (`resolvedLinks(of:in:)`).
    func upsert(linksOf contacts: [ContactRecord], in state: PeopleState, on connection: PQConnection) async throws {
        var contactIDs: [String] = []
        var companyIDs: [String] = []
        var links: [CompanyLink] = []
        for contact in contacts {
            for (companyID, link) in Self.resolvedLinks(of: contact, in: state) {
                contactIDs.append(contact.id)
                companyIDs.append(companyID)
                links.append(link)
            }
        }
        guard !links.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (contact_id, company_id, first_seen_at, last_seen_at,
                hubspot_associated)
            SELECT * FROM unnest(\(contactIDs)::text[], \(companyIDs)::text[], \(links.map(\.firstSeenAt))::timestamptz[],
                                 \(links.map(\.lastSeenAt))::timestamptz[], \(links.map(\.hubSpotAssociated))::boolean[])
            ON CONFLICT (contact_id, company_id) DO UPDATE SET first_seen_at = EXCLUDED.first_seen_at,
                last_seen_at = EXCLUDED.last_seen_at, hubspot_associated = EXCLUDED.hubspot_associated
            """, name: "people.write_company_links")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for contact in state.contacts.values {
            for (companyID, link) in resolvedLinks(of: contact, in: state) {
                writer.append(contact.id)
                writer.append(companyID)
                writer.append(time: link.firstSeenAt)
                writer.append(time: link.lastSeenAt)
                writer.append(flag: link.hubSpotAssociated)
                try writer.endRow()
            }
        }
    }

    /// A contact's company links with merged companies followed, one per company (the widest first/last seen).
    static func resolvedLinks(of contact: ContactRecord, in state: PeopleState) -> [String: CompanyLink] {
        var links: [String: CompanyLink] = [:]
        for (companyID, link) in contact.companies {
            let id = state.resolveCompany(companyID)
            // An association with a company merged away is not one with the survivor: HubSpot needs a new one.
            let associated = companyID == id && link.hubSpotAssociated
            if let existing = links[id] {
                links[id] = CompanyLink(
                    firstSeenAt: min(existing.firstSeenAt, link.firstSeenAt), lastSeenAt: max(existing.lastSeenAt, link.lastSeenAt),
                    hubSpotAssociated: existing.hubSpotAssociated || associated)
            } else {
                links[id] = CompanyLink(firstSeenAt: link.firstSeenAt, lastSeenAt: link.lastSeenAt, hubSpotAssociated: associated)
            }
        }
        return links
    }
}
