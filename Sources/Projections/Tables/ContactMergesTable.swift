import Foundation
import Mapping
import PQ

/// `contact_merges`: each contact merged into another, with what linked them.
struct ContactMergesTable: PeopleTable {
    static let name = "contact_merges"
    static let columns = ["merged_contact_id", "into_contact_id", "reason", "position", "merged_at"]
    let sqlName: String

    /// Records `merges` (a merge already recorded keeps its row).
    func insert(_ merges: [ContactMerge], on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (merged_contact_id, into_contact_id, reason, position, merged_at)
            SELECT * FROM unnest(\(merges.map(\.from))::text[], \(merges.map(\.into))::text[], \(merges.map(\.reason))::text[],
                                 \(merges.map(\.position))::bigint[], \(merges.map(\.at))::timestamptz[])
            ON CONFLICT (merged_contact_id) DO NOTHING
            """, name: "people.write_merges")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for merge in state.merges { try writer.append(merge: merge) }
    }
}
