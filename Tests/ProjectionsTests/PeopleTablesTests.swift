import Domain
import Foundation
import Mapping
@testable import PQ
@testable import Projections
import Testing

/// The people tables' writers without a database: what a rebuild's `COPY` would send.
@Suite struct PeopleTablesTests {
    @Test func everyTableIsWrittenOnceInTheRebuildsOrder() {
        #expect(PeopleTables.names == [
            "identities", "contacts", "contact_merges", "companies", "contact_companies", "audience_memberships", "devices",
            "message_activity", "sync_status", "company_identities", "company_merges",
        ])
        #expect(Set(PeopleTables.all.map { ObjectIdentifier($0) }).count == PeopleTables.all.count)
        // What the sync workers read is written by the projection.
        #expect(Set(ReadModel.Table.allCases.map(\.rawValue)).isSubset(of: PeopleTables.names))
    }

    @Test func everyCopyRowHasOneFieldPerColumn() throws {
        let log = Self.everyKindOfRow()
        for table in PeopleTables.all {
            let rows = try Self.copyRows(of: table, in: log.state, mapping: log.mapping)
            #expect(!rows.isEmpty, "no rows for \(table.name)")
            for row in rows {
                #expect(row.count == table.columns.count, "\(table.name): \(row)")
            }
        }
    }

    @Test func copyRowsAreTheWorkingSetInTheTablesTextFormat() throws {
        let log = Self.everyKindOfRow()
        let identities = try Self.copyRows(of: IdentitiesTable.self, in: log.state, mapping: log.mapping)
        // Identities of a merged contact are written pointing at the survivor.
        #expect(identities.contains(["user_id", "u2", "c_1", "2", "2026-09-21T14:15:20.000Z"]))
        let merges = try Self.copyRows(of: ContactMergesTable.self, in: log.state, mapping: log.mapping)
        #expect(merges == [["c_2", "c_1", "alias", "3", "2026-09-21T14:16:20.000Z"]])
        let links = try Self.copyRows(of: ContactCompaniesTable.self, in: log.state, mapping: log.mapping)
        #expect(links.contains(["c_1", "co_4", "2026-09-21T14:17:20.000Z", "2026-09-21T14:17:20.000Z", "f"]))
        let activity = try Self.copyRows(of: MessageActivityTable.self, in: log.state, mapping: log.mapping)
        // NULL is \N; a tab in a value is escaped, not a field separator.
        #expect(activity.first?[1] == "c_1")
        #expect(activity.first?[2] == #"app\ta"#)
        #expect(activity.first?[3] == #"\N"#)
        let companies = try Self.copyRows(of: CompaniesTable.self, in: log.state, mapping: log.mapping)
        #expect(companies.first?[2] == "acme.com")
        #expect(companies.first?[13] == "t")
    }

    /// A working set with a row in every table: a merge, a company from a group call, audiences, a OneSignal message.
    static func everyKindOfRow() -> PeopleLog {
        var log = PeopleLog()
        log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.identify, #"{"type":"identify","userId":"u2"}"#)
        log.append(.alias, #"{"type":"alias","previousId":"u2","userId":"u1"}"#)
        log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme","website":"acme.com"}}"#)
        log.append(.group, #"{"type":"group","userId":"u3","groupId":"g-2","traits":{"website":"https://acme.com"}}"#)
        log.append(.group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"website":"acme.eu"}}"#)
        log.append(.group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"website":"acme.com"}}"#)
        log.append(
            .track, #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk"}}"#)
        log.append(
            EventType.oneSignal("message.push.sent"),
            #"{"event_id":"ev-1","kind":"message.push.sent","external_id":"u1","subscription_id":"sub-1","app_id":"app\ta"}"#,
            source: .onesignal)
        return log
    }

    /// The rows `table` writes for `state`, split into fields (escapes kept as written).
    static func copyRows(of table: any PeopleTable.Type, in state: PeopleState, mapping: Mapping) throws -> [[String]] {
        final class Sent: @unchecked Sendable { var bytes: [UInt8] = [] }
        let sent = Sent()
        var writer = PQCopyWriter(chunkSize: 64) { chunk in sent.bytes += chunk }
        try table.copyRows(of: state, mapping: mapping, into: &writer)
        try writer.flush()
        let text = String(decoding: sent.bytes, as: UTF8.self)
        return text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }
}
