import Domain
import Foundation
import Mapping
import PQ

/// `identities`: every identity of a person seen, and the contact it belongs to.
struct IdentitiesTable: PeopleTable {
    static let name = "identities"
    static let columns = ["kind", "value", "contact_id", "first_position", "first_seen_at"]
    let sqlName: String

    /// Inserts the identities `keys` of `state`, or points them at their (merge-resolved) contact.
    func upsert(_ keys: [IdentityKey], of state: PeopleState, on connection: PQConnection) async throws {
        let records = keys.map { state.identities[$0]! }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (kind, value, contact_id, first_position, first_seen_at)
            SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.value))::text[],
                                 \(records.map { state.resolve($0.contactID) })::text[], \(records.map(\.firstPosition))::bigint[],
                                 \(records.map(\.firstSeenAt))::timestamptz[])
            ON CONFLICT (kind, value) DO UPDATE SET contact_id = EXCLUDED.contact_id
            """, name: "people.write_identities")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for (key, record) in state.identities {
            writer.append(key.kind)
            writer.append(key.value)
            writer.append(state.resolve(record.contactID))
            writer.append(number: record.firstPosition)
            writer.append(time: record.firstSeenAt)
            try writer.endRow()
        }
    }
}
