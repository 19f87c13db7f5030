import Domain
import EventStore
import Foundation
import PQ
import Testing
import TestSupport

/// `hubsignal archive` and `hubsignal retention` as a user runs them: the real executable against a database.
@Suite struct ArchiveCommandTests {
    @Test func archiveListStatusRebuildRefusalRestoreAndRetentionFromTheCommandLine() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            func append(_ user: String) async throws {
                _ = try await store.append([
                    NewEvent(
                        stream: "test", type: .identify, source: .segment, idempotencyKey: UUID().uuidString, occurredAt: Date(),
                        payload: PQJSONB(#"{"type":"identify","userId":"\#(user)"}"#), metadata: PQJSONB("{}"))
                ])
            }
            try await append("old-1")
            try await append("old-2")
            let end = try await database.client.query("SELECT to_position FROM event_partitions ORDER BY from_position LIMIT 1")[0]
                .decode(Int64.self, at: 0)
            try await database.client.execute("SELECT setval(pg_get_serial_sequence('event_keys', 'position'), \(end + 10))")
            try await append("new-1")

            let empty = try CommandLineTests.hubsignal(["archive", "--list"], database: database)
            #expect(empty.status == 0, "\(empty.errors)")
            #expect(empty.output.contains("no archived partition"))
            let bad = try CommandLineTests.hubsignal(["archive", "--before", "next week"], database: database)
            #expect(bad.status != 0)
            #expect(bad.errors.contains("ISO 8601"), "\(bad.errors)")
            #expect(try CommandLineTests.hubsignal(["archive", "--list", "--restore", "--all"], database: database).status != 0)

            try await database.client.execute(
                "INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ('laggard', '1', 1)")
            let dry = try CommandLineTests.hubsignal(["archive", "--before", "\(end)", "--dry-run"], database: database)
            #expect(dry.status == 0, "\(dry.errors)")
            #expect(dry.output == "would stop at events_p0000000000001: positions 1-\(end - 1): not read yet by laggard\n", "\(dry.output)")
            let refused = try CommandLineTests.hubsignal(["archive", "--before", "\(end)"], database: database)
            #expect(refused.status != 0)
            #expect(refused.errors.contains("not read yet by laggard"), "\(refused.errors)")
            try await database.client.execute("DELETE FROM subscription_checkpoints WHERE name = 'laggard'")
            let ready = try CommandLineTests.hubsignal(["archive", "--before", "\(end)", "--dry-run"], database: database)
            #expect(ready.output == "would archive events_p0000000000001: positions 1-\(end - 1)\n", "\(ready.output)")
            #expect(try CommandLineTests.hubsignal(["archive", "--list"], database: database).output.contains("no archived partition"))

            let archived = try CommandLineTests.hubsignal(["archive", "--before", "\(end)"], database: database)
            #expect(archived.status == 0, "\(archived.errors)")
            #expect(archived.output.contains("events_p0000000000001: positions 1-\(end - 1), 2 events"), "\(archived.output)")
            #expect(try CommandLineTests.hubsignal(["archive", "--list"], database: database).output.contains("events_p0000000000001"))

            let status = try CommandLineTests.hubsignal(["status"], database: database)
            #expect(status.output.contains("history before position \(end) is archived"), "\(status.output)")
            let rebuild = try CommandLineTests.hubsignal(["rebuild"], database: database)
            #expect(rebuild.status != 0)
            #expect(rebuild.errors.contains("hubsignal archive --restore --all"), "\(rebuild.errors)")

            let restored = try CommandLineTests.hubsignal(["archive", "--restore", "--all"], database: database)
            #expect(restored.status == 0, "\(restored.errors)")
            #expect(restored.output.contains("restored events_p0000000000001"))
            #expect(try await database.client.query("SELECT count(*) FROM events")[0].decode(Int64.self, at: 0) == 3)
            #expect(try CommandLineTests.hubsignal(["rebuild"], database: database).status == 0)

            let retention = try CommandLineTests.hubsignal(["retention", "--dry-run", "--delivered", "off"], database: database)
            #expect(retention.status == 0, "\(retention.errors)")
            #expect(retention.output == "rejections: 0 row(s) older than 90d would be deleted\ndelivered: kept forever\n", "\(retention.output)")
            let badRetention = try CommandLineTests.hubsignal(["retention", "--rejections", "soon"], database: database)
            #expect(badRetention.status != 0)
        }
    }
}
