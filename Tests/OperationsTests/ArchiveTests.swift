import Domain
import EventStore
import Foundation
import Logging
import Mapping
import Operations
import PQ
import Projections
import Testing
import TestSupport

/// `hubsignal archive`: old partitions every subscriber has read are detached and kept or exported, listed, and
/// attached again with the log reading as before; the keys stay, and whole-log readers refuse while they are away.
@Suite struct ArchiveTests {
    /// The first partition of a fresh database: [1, end).
    static func firstPartitionEnd(_ client: PQClient) async throws -> Int64 {
        try await client.query("SELECT to_position FROM event_partitions ORDER BY from_position LIMIT 1")[0].decode(Int64.self, at: 0)
    }

    /// A log with `old` events in the first partition and `recent` ones past it (the position sequence moved on, as
    /// after millions of events), the people projection caught up.
    static func makeLog(_ database: TestDatabase, old: Int = 6, recent: Int = 3) async throws -> (ProjectionHarness, Int64) {
        var log = ProjectionHarness(database)
        for index in 0..<old {
            try await log.append(.identify, #"{"type":"identify","userId":"old-\#(index)","traits":{"email":"old\#(index)@example.com"}}"#)
        }
        let end = try await firstPartitionEnd(database.client)
        try await database.client.execute(
            "SELECT setval(pg_get_serial_sequence('event_keys', 'position'), \(end + 10))")
        for index in 0..<recent {
            try await log.append(.identify, #"{"type":"identify","userId":"new-\#(index)","traits":{"email":"new\#(index)@example.com"}}"#)
        }
        try await log.project()
        return (log, end)
    }

    static func snapshot(_ client: PQClient) async throws -> [String] {
        try await client.query(
            """
            SELECT position || ' ' || transaction_id || ' ' || stream || ' ' || type || ' ' || idempotency_key || ' '
                || occurred_at || ' ' || recorded_at || ' ' || payload::text || ' ' || metadata::text
            FROM events ORDER BY position
            """
        ).map { try $0.decode(String.self, at: 0) }
    }

    static func exists(_ client: PQClient, _ table: String) async throws -> Bool {
        try await client.query("SELECT to_regclass(\(table)) IS NOT NULL")[0].decode(Bool.self, at: 0)
    }

    @Test func archiveListRestoreReadsTheLogAsBefore() async throws {
        try await TestPostgres.withDatabase { database in
            let (log, end) = try await Self.makeLog(database)
            let client = database.client
            let before = try await Self.snapshot(client)
            #expect(before.count == 9)
            let archive = Archive(client: client, logger: TestPostgres.logger)

            let archived = try await archive.archive(before: .position(end))
            #expect(archived.map(\.partition) == ["events_p0000000000001"])
            #expect(archived.first?.rowCount == 6)
            #expect(archived.first?.location == .database)
            #expect(try await Self.exists(client, "hubsignal_archive.events_p0000000000001"))
            #expect(try await Self.snapshot(client) == Array(before.suffix(3)))
            #expect(try await archive.list() == archived)
            #expect(try await Archive.keptInDatabase(client: client) == ["events_p0000000000001"])
            // Kept as it was: append-only.
            await #expect(throws: PQError.self) { try await client.execute("DELETE FROM hubsignal_archive.events_p0000000000001") }
            // Archiving again finds nothing more: the partition being written is never archived.
            #expect(try await archive.archive(before: .position(Int64.max)).isEmpty)

            // The keys stay: a retried old message is still a duplicate.
            let oldKey = try await client.query("SELECT idempotency_key FROM event_keys ORDER BY position LIMIT 1")[0].decode(String.self, at: 0)
            let retried = try await log.store.append([
                NewEvent(
                    stream: "test", type: .identify, source: .segment, idempotencyKey: oldKey, occurredAt: Date(),
                    payload: PQJSONB(#"{"type":"identify","userId":"old-0"}"#), metadata: PQJSONB("{}"))
            ])
            #expect(retried == [.duplicate(existingPosition: 1)])
            #expect(try await Self.snapshot(client).count == 3)

            let restored = try await archive.restore("events_p0000000000001")
            #expect(restored.partition == "events_p0000000000001")
            #expect(try await archive.list().isEmpty)
            #expect(try await Self.snapshot(client) == before)
            #expect(!(try await Self.exists(client, "hubsignal_archive.events_p0000000000001")))
            // Attached again as it was: a partition of the log, append-only.
            #expect(try await client.query("SELECT partition_name FROM event_partitions ORDER BY from_position LIMIT 1")[0]
                .decode(String.self, at: 0) == "events_p0000000000001")
            await #expect(throws: PQError.self) { try await client.execute("DELETE FROM events_p0000000000001") }
        }
    }

    @Test func exportedPartitionIsCheckedAndImportedOnRestore() async throws {
        try await TestPostgres.withDatabase { database in
            let (_, end) = try await Self.makeLog(database, old: 5)
            let client = database.client
            let before = try await Self.snapshot(client)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let archive = Archive(client: client, logger: TestPostgres.logger)

            let exported = try await archive.archive(before: .position(end), exportTo: directory.path)
            #expect(exported.count == 1)
            guard case .file(let path, let sha256)? = exported.first?.location else {
                Issue.record("not exported: \(exported)")
                return
            }
            #expect(path == directory.appendingPathComponent("events_p0000000000001.tsv").path)
            #expect(sha256.count == 64)
            #expect(!(try await Self.exists(client, "hubsignal_archive.events_p0000000000001")))
            let text = try String(contentsOfFile: path, encoding: .utf8)
            #expect(text.split(separator: "\n").count == 5)
            #expect(try await archive.list().first?.location == .file(path: path, sha256: sha256))

            // A file that changed is refused, and nothing is restored.
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            try Data(text.replacingOccurrences(of: "old0@", with: "evil@").utf8).write(to: URL(fileURLWithPath: path))
            await #expect(throws: ArchiveError.self) { try await archive.restore("events_p0000000000001") }
            #expect(try await archive.list().count == 1)
            try original.write(to: URL(fileURLWithPath: path))

            try await archive.restore("events_p0000000000001")
            #expect(try await Self.snapshot(client) == before)
            #expect(try await archive.list().isEmpty)
        }
    }

    @Test func exportRoundTripsTextCopyMustEscape() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            var log = ProjectionHarness(database)
            try await log.append(.track, #"{"type":"track","userId":"u-1","event":"tab\there\nnew\rline \\N back\\slash ünï"}"#)
            try await client.execute(
                """
                INSERT INTO events (position, stream, type, source, idempotency_key, occurred_at, payload, metadata)
                VALUES (nextval(pg_get_serial_sequence('event_keys', 'position')), E'line\\nstream\\\\', 'hubsignal.odd', 'hubsignal',
                        E'key\\twith\\ttabs', '2026-01-02 03:04:05.123456+00', '{"n": null}', '{}')
                """)
            let end = try await Self.firstPartitionEnd(client)
            try await client.execute("SELECT setval(pg_get_serial_sequence('event_keys', 'position'), \(end + 10))")
            try await log.append(.identify, #"{"type":"identify","userId":"u-2"}"#)
            let before = try await Self.snapshot(client)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let archive = Archive(client: client, logger: TestPostgres.logger)
            #expect(try await archive.archive(before: .position(end), exportTo: directory.path).count == 1)
            #expect(try await Self.snapshot(client).count == 1)
            try await archive.restore("events_p0000000000001")
            #expect(try await Self.snapshot(client) == before)
        }
    }

    @Test func aPartitionASubscriberHasNotReadIsRefused() async throws {
        try await TestPostgres.withDatabase { database in
            let (_, end) = try await Self.makeLog(database)
            let client = database.client
            try await client.execute(
                "INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ('laggard', '1', 2)")
            let archive = Archive(client: client, logger: TestPostgres.logger)
            let error = await #expect(throws: ArchiveError.self) { try await archive.archive(before: .position(end)) }
            #expect(error?.description.contains("laggard") == true, "\(String(describing: error))")
            #expect(error?.description.contains("events_p0000000000001") == true)
            #expect(try await archive.list().isEmpty)
            #expect(try await Self.snapshot(client).count == 9)

            // Caught up (the people projection's checkpoint is at the head), it may be archived.
            try await client.execute(
                """
                UPDATE subscription_checkpoints SET (transaction_id, position) =
                    (SELECT transaction_id, position FROM subscription_checkpoints WHERE name = 'people')
                WHERE name = 'laggard'
                """)
            #expect(try await archive.archive(before: .position(end)).count == 1)
        }
    }

    @Test func aDateCutoffArchivesOnlyPartitionsRecordedBeforeIt() async throws {
        try await TestPostgres.withDatabase { database in
            let (_, _) = try await Self.makeLog(database)
            let archive = Archive(client: database.client, logger: TestPostgres.logger)
            #expect(try await archive.archive(before: .date(Date(timeIntervalSinceNow: -3600))).isEmpty)
            #expect(try await archive.archive(before: .date(Date(timeIntervalSinceNow: 60))).map(\.partition) == ["events_p0000000000001"])
            #expect(try Archive.Cutoff(parsing: "2026-01-01") == .date(Date(timeIntervalSince1970: 1_767_225_600)))
            #expect(try Archive.Cutoff(parsing: "2026-01-01T00:00:00Z") == .date(Date(timeIntervalSince1970: 1_767_225_600)))
            #expect(try Archive.Cutoff(parsing: "20000001") == .position(20_000_001))
            #expect(throws: ArchiveError.self) { try Archive.Cutoff(parsing: "last tuesday") }
            await #expect(throws: ArchiveError.self) { try await archive.restore("events; DROP TABLE events") }
        }
    }

    @Test func rebuildRefusesWhilePartitionsAreArchived() async throws {
        try await TestPostgres.withDatabase { database in
            let (log, end) = try await Self.makeLog(database)
            let archive = Archive(client: database.client, logger: TestPostgres.logger)
            _ = try await archive.archive(before: .position(end))
            let rebuild = ProjectionRebuild(store: log.store, mapping: .defaults, logger: TestPostgres.logger)
            let error = await #expect(throws: ArchivedHistoryError.self) { try await rebuild.run() }
            #expect(error?.description.contains("events_p0000000000001") == true)
            #expect(error?.description.contains("hubsignal archive --restore --all") == true)
            // A backfill whose window starts after the archived history may run; one reaching into it may not.
            try await ArchivedHistory.refuseWhileArchived(client: database.client, work: "a backfill", since: Date(timeIntervalSinceNow: 60))
            await #expect(throws: ArchivedHistoryError.self) {
                try await ArchivedHistory.refuseWhileArchived(client: database.client, work: "a backfill", since: Date(timeIntervalSinceNow: -3600))
            }
            #expect(try await ArchivedHistory.archivedBefore(client: database.client)?.position == end)
            try await archive.restoreAll()
            #expect(try await ArchivedHistory.archivedBefore(client: database.client) == nil)
            #expect(try await rebuild.run() == 9)
        }
    }

    @Test func erasureRefusesWhilePartitionsAreArchivedInTheDatabase() async throws {
        try await TestPostgres.withDatabase { database in
            let (log, end) = try await Self.makeLog(database)
            let client = database.client
            let archive = Archive(client: client, logger: TestPostgres.logger)
            _ = try await archive.archive(before: .position(end))
            let erasure = Erasure(client: client, store: log.store)
            let error = await #expect(throws: ErasureError.self) { try await erasure.erase(.userID("old-1")) }
            #expect(error?.description.contains("events_p0000000000001") == true)
            #expect(error?.description.contains("hubsignal archive --restore --all") == true)

            // Restored, the person's archived events are erased like any other.
            try await archive.restoreAll()
            let report = try await erasure.erase(.userID("old-1"))
            #expect(report.events == 1)
            #expect(try await client.query("SELECT count(*) FROM events WHERE payload::text LIKE '%old1@%'")[0].decode(Int64.self, at: 0) == 0)

            // An exported archive is a backup outside the database: erasure goes on (docs/operations.md says so).
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("archive-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            _ = try await archive.archive(before: .position(end), exportTo: directory.path)
            #expect(try await erasure.erase(.userID("new-1")).events == 1)
        }
    }

    @Test func ingestionKeepsRunningWhileArchiving() async throws {
        try await TestPostgres.withDatabase { database in
            let (log, end) = try await Self.makeLog(database)
            let store = log.store
            let archive = Archive(client: database.client, logger: TestPostgres.logger)
            let appended = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    var count = 0
                    let deadline = ContinuousClock.now + .seconds(2)
                    while ContinuousClock.now < deadline {
                        _ = try await store.append([
                            NewEvent(
                                stream: "load", type: .track, source: .segment, idempotencyKey: UUID().uuidString, occurredAt: Date(),
                                payload: PQJSONB(#"{"type":"track","userId":"load","event":"Tick"}"#), metadata: PQJSONB("{}"))
                        ])
                        count += 1
                    }
                    return count
                }
                try await Task.sleep(for: .milliseconds(300))
                let archived = try await archive.archive(before: .position(end))
                #expect(archived.count == 1)
                try await Task.sleep(for: .milliseconds(300))
                try await archive.restoreAll()
                return try await group.reduce(0, +)
            }
            #expect(appended > 10)
            #expect(try await database.client.query("SELECT count(*) FROM events WHERE stream = 'load'")[0].decode(Int64.self, at: 0)
                == Int64(appended))
            #expect(try await Self.snapshot(database.client).count == 9 + appended)
        }
    }
}
