import Foundation
import Mapping
import PQ

/// `audience_memberships`: each contact's membership of each audience (Segment Engage or Adobe AEP style).
struct AudienceMembershipsTable: PeopleTable {
    static let name = "audience_memberships"
    static let columns = ["contact_id", "audience", "is_member", "status", "style", "entered_at", "exited_at", "updated_at"]
    let sqlName: String

    /// Writes the memberships of `contacts`; with `clearingFirst` (the table may hold rows the working set has not
    /// loaded), their other rows are deleted first.
    func replace(of contacts: [ContactRecord], clearingFirst: Bool, on connection: PQConnection) async throws {
        var contactIDs: [String] = []
        var audiences: [String] = []
        var records: [AudienceRecord] = []
        for contact in contacts {
            for (audience, record) in contact.audiences {
                contactIDs.append(contact.id)
                audiences.append(audience)
                records.append(record)
            }
        }
        if clearingFirst {
            try await connection.execute(
                "DELETE FROM \(unsafeRaw: sqlName) WHERE contact_id = ANY(\(contacts.map(\.id))::text[])", name: "people.clear_audiences")
        }
        guard !audiences.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (contact_id, audience, is_member, status, style, entered_at,
                exited_at, updated_at)
            SELECT * FROM unnest(\(contactIDs)::text[], \(audiences)::text[], \(records.map(\.isMember))::boolean[],
                \(PQNullableArray(records.map(\.status)))::text[], \(records.map(\.style))::text[],
                \(PQNullableArray(records.map(\.enteredAt)))::timestamptz[],
                \(PQNullableArray(records.map(\.exitedAt)))::timestamptz[], \(records.map(\.updatedAt))::timestamptz[])
            ON CONFLICT (contact_id, audience) DO UPDATE SET is_member = EXCLUDED.is_member, status = EXCLUDED.status,
                style = EXCLUDED.style, entered_at = EXCLUDED.entered_at, exited_at = EXCLUDED.exited_at,
                updated_at = EXCLUDED.updated_at
            """, name: "people.write_audiences")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for contact in state.contacts.values {
            for (audience, record) in contact.audiences {
                writer.append(contact.id)
                writer.append(audience)
                writer.append(flag: record.isMember)
                writer.append(record.status)
                writer.append(record.style)
                writer.append(time: record.enteredAt)
                writer.append(time: record.exitedAt)
                writer.append(time: record.updatedAt)
                try writer.endRow()
            }
        }
    }
}
