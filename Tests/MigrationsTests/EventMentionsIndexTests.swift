import Foundation
@testable import Migrations
import PQ
import Testing
import TestSupport

/// Migration 0022's index (`events_mentions`, erasure's way into the log) is built concurrently after the script: per
/// partition and attached on the partitioned log, whole on the unpartitioned one, replacing what a failed build left.
@Suite struct EventMentionsIndexTests {
    static var script: String {
        get throws {
            try String(
                contentsOf: TestPostgres.migrationsDirectory.appendingPathComponent(EventMentionsIndex.migrationFile), encoding: .utf8)
        }
    }

    /// A partitioned log of 1,500 events in two partitions, as `0001_log.sql`.
    static let partitionedLog = """
        CREATE TABLE events (position bigint NOT NULL, stream text NOT NULL, payload jsonb NOT NULL, PRIMARY KEY (position))
            PARTITION BY RANGE (position);
        CREATE TABLE events_p0000000000001 PARTITION OF events FOR VALUES FROM (1) TO (1001);
        CREATE TABLE events_p0000000001001 PARTITION OF events FOR VALUES FROM (1001) TO (2001);
        INSERT INTO events SELECT i, 'user:u-' || i, jsonb_build_object('userId', 'U-' || i, 'kind', 'same') FROM generate_series(1, 1500) i;
        """

    /// The indexes of `events`' partitions attached to `events_mentions`, by partition.
    static func attached(_ client: PQClient) async throws -> [String: String] {
        let rows = try await client.query(
            """
            SELECT t.relname::text, x.relname::text FROM pg_inherits i
            JOIN pg_class x ON x.oid = i.inhrelid JOIN pg_index ix ON ix.indexrelid = x.oid JOIN pg_class t ON t.oid = ix.indrelid
            WHERE i.inhparent = 'events_mentions'::regclass
            """)
        return Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
    }

    static func isValid(_ index: String, _ client: PQClient) async throws -> Bool? {
        try await client.query("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(\(index))").first?.decode(Bool.self, at: 0)
    }

    @Test func onThePartitionedLogEachPartitionIsIndexedConcurrentlyAndAttached() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let folder = try MigratorTests.makeFolder(["0001_log.sql": Self.partitionedLog, EventMentionsIndex.migrationFile: try Self.script])
            let all = try MigrationSet.load(from: folder)
            try await Migrator(client: client, migrations: try MigrationSet([all.migrations[0]]), logger: TestPostgres.logger, steps: [])
                .migrate()
            // A build that failed halfway left an invalid index under the name the step uses.
            await #expect(throws: PQError.self) {
                try await client.execute(
                    "CREATE UNIQUE INDEX CONCURRENTLY events_p0000000001001_mentions ON events_p0000000001001 ((payload->>'kind'))")
            }
            #expect(try await Self.isValid("events_p0000000001001_mentions", client) == false)

            let migrator = Migrator(client: client, migrations: all, logger: TestPostgres.logger, steps: EventMentionsIndex.steps)
            #expect(try await migrator.migrate().map(\.version) == [22])
            #expect(try await Self.isValid(EventMentionsIndex.indexName, client) == true)
            #expect(
                try await Self.attached(client) == [
                    "events_p0000000000001": "events_p0000000000001_mentions", "events_p0000000001001": "events_p0000000001001_mentions",
                ])
            let definition = try await client.query("SELECT pg_get_indexdef('events_p0000000001001_mentions'::regclass)")[0]
                .decode(String.self, at: 0)
            #expect(definition.contains("USING gin (hubsignal_event_mentions(payload))"), "\(definition)")

            // A partition created later has the index; a run with nothing to do changes nothing.
            try await client.execute("CREATE TABLE events_p0000000002001 PARTITION OF events FOR VALUES FROM (2001) TO (3001)")
            #expect(try await Self.attached(client).keys.sorted() == ["events_p0000000000001", "events_p0000000001001", "events_p0000000002001"])
            #expect(try await migrator.migrate().isEmpty)
            #expect(try await Self.attached(client).count == 3)

            // The index answers for every partition, whatever the case and spaces of the value asked for.
            try await client.withConnection { connection in
                try await connection.execute("SET enable_seqscan = off")
                let query: PQQuery = """
                    SELECT position FROM events
                    WHERE hubsignal_event_mentions(payload) && hubsignal_mention_keys(\(["u-5", " U-1200"])::text[], '{}'::bigint[])
                    ORDER BY position
                    """
                #expect(try await connection.query(query).map { try $0.decode(Int64.self, at: 0) } == [5, 1200])
                var explain = query
                explain.sql = "EXPLAIN " + query.sql
                let plan = try await connection.query(explain).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
                #expect(plan.contains("events_p0000000000001_mentions") && plan.contains("events_p0000000001001_mentions"), "\(plan)")
                try await connection.execute("RESET enable_seqscan")
            }
        }
    }

    @Test func onTheUnpartitionedLogTheWholeIndexIsBuiltConcurrently() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let plain = "CREATE TABLE events (position bigint PRIMARY KEY, stream text NOT NULL, payload jsonb NOT NULL);"
            let folder = try MigratorTests.makeFolder(["0001_log.sql": plain, EventMentionsIndex.migrationFile: try Self.script])
            let all = try MigrationSet.load(from: folder)
            // The script alone does not touch the table (it would block appends while it builds).
            try await Migrator(client: client, migrations: all, logger: TestPostgres.logger, steps: []).migrate()
            #expect(try await Self.isValid(EventMentionsIndex.indexName, client) == nil)
            try await Migrator(client: client, migrations: all, logger: TestPostgres.logger, steps: EventMentionsIndex.steps).migrate()
            #expect(try await Self.isValid(EventMentionsIndex.indexName, client) == true)
        }
    }

    @Test func theRepositoryMigrationsLeaveAValidIndex() async throws {
        let valid = try await TestPostgres.withDatabase { database in
            try await Self.isValid(EventMentionsIndex.indexName, database.client)
        }
        #expect(valid == true)
    }
}
