import Domain
import Foundation
import Ingestion
import Mapping
import PQ

/// A rebuild's first write: every row with `COPY`.
extension PeopleTables {
    /// Writes every row of the working set into the empty tables with one `COPY` per table, the tables in parallel on
    /// connections of `client`. No transaction spans the tables: they are a rebuild's private shadow tables, abandoned
    /// if anything fails.
    func copyAll(_ state: inout PeopleState, mapping: Mapping, client: PQClient) async throws {
        let snapshot = state
        let tables = self
        try await withThrowingTaskGroup(of: Void.self) { group in
            for table in Self.all {
                group.addTask {
                    try await client.withConnection { connection in
                        try await tables.copy(table, from: snapshot, mapping: mapping, on: connection)
                    }
                }
            }
            try await group.waitForAll()
        }
        state.clearChanges()
        state.tablesAreEmpty = false
    }

    /// Streams the rows of `table` into `COPY` as they are produced (no intermediate rows).
    private func copy(
        _ table: any PeopleTable.Type, from state: PeopleState, mapping: Mapping, on connection: PQConnection
    ) async throws {
        let statement = "COPY \(self.table(table.name)) (\(table.columns.joined(separator: ", "))) FROM STDIN"
        try await connection.copyIn(PQQuery(unsafeSQL: statement, name: "people.copy_\(table.name)")) { writer in
            try table.copyRows(of: state, mapping: mapping, into: &writer)
        }
    }
}

/// The field formats of the people tables' `COPY` rows.
extension PQCopyWriter {
    /// A `timestamptz` field (ISO 8601, milliseconds, UTC), or NULL.
    mutating func append(time: Date?) {
        append(time.map(ISO8601Timestamp.format))
    }

    /// An integer field.
    mutating func append(number: some BinaryInteger) {
        append(String(number))
    }

    /// A `boolean` field.
    mutating func append(flag: Bool) {
        append(flag ? "t" : "f")
    }

    /// A `jsonb` field (compact JSON text), or NULL.
    mutating func append(json: JSONValue?) {
        guard let json else { return append(nil as String?) }
        append(bytes: (try? json.serialized()) ?? Array("null".utf8))
    }

    /// A merge row (`contact_merges`, `company_merges`): merged id, survivor id, reason, position, time.
    mutating func append(merge: ContactMerge) throws {
        append(merge.from)
        append(merge.into)
        append(merge.reason)
        append(number: merge.position)
        append(time: merge.at)
        try endRow()
    }
}
