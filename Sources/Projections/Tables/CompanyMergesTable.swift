import Foundation
import Mapping
import PQ

/// `company_merges`: each company merged into another, with what linked them.
struct CompanyMergesTable: PeopleTable {
    static let name = "company_merges"
    static let columns = ["merged_company_id", "into_company_id", "reason", "position", "merged_at"]
    let sqlName: String

    /// Records `merges` (a merge already recorded keeps its row).
    func insert(_ merges: [ContactMerge], on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (merged_company_id, into_company_id, reason, position, merged_at)
            SELECT * FROM unnest(\(merges.map(\.from))::text[], \(merges.map(\.into))::text[], \(merges.map(\.reason))::text[],
                                 \(merges.map(\.position))::bigint[], \(merges.map(\.at))::timestamptz[])
            ON CONFLICT (merged_company_id) DO NOTHING
            """, name: "people.write_company_merges")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for merge in state.companyMerges { try writer.append(merge: merge) }
    }
}
