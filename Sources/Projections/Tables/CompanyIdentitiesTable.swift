import Domain
import Foundation
import Mapping
import PQ

/// `company_identities`: every group id, domain and HubSpot id of a company seen, and the company it belongs to.
struct CompanyIdentitiesTable: PeopleTable {
    static let name = "company_identities"
    static let columns = ["kind", "value", "company_id", "first_position", "first_seen_at"]
    let sqlName: String

    /// Inserts the company identities `keys` of `state`, or points them at their (merge-resolved) company.
    func upsert(_ keys: [IdentityKey], of state: PeopleState, on connection: PQConnection) async throws {
        let records = keys.map { state.companyIdentities[$0]! }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (kind, value, company_id, first_position, first_seen_at)
            SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.value))::text[],
                                 \(records.map { state.resolveCompany($0.companyID) })::text[],
                                 \(records.map(\.firstPosition))::bigint[], \(records.map(\.firstSeenAt))::timestamptz[])
            ON CONFLICT (kind, value) DO UPDATE SET company_id = EXCLUDED.company_id
            """, name: "people.write_company_identities")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for (key, record) in state.companyIdentities {
            writer.append(key.kind)
            writer.append(key.value)
            writer.append(state.resolveCompany(record.companyID))
            writer.append(number: record.firstPosition)
            writer.append(time: record.firstSeenAt)
            try writer.endRow()
        }
    }
}
