import Domain
import EventStore
import Foundation
import Migrations
import PQ
import Synchronization
import Testing
import TestSupport

/// The partitioned log (migration 0021): partitions ahead of the head, keys deduplicated across partitions forever,
/// and the online migration of an existing log while appends and a reader keep running.
@Suite struct PartitionedLogTests {
    final class MigrationDone: Sendable { let flag = Atomic<Bool>(false) }

    static func migrations(through version: Int) throws -> MigrationSet {
        try MigrationSet(TestPostgres.migrations().migrations.filter { $0.version <= version })
    }

    static func partitions(_ client: PQClient) async throws -> [(name: String, from: Int64, to: Int64)] {
        try await client.query("SELECT partition_name, from_position, to_position FROM event_partitions ORDER BY from_position")
            .map { try $0.decode((String, Int64, Int64).self) }.map { (name: $0.0, from: $0.1, to: $0.2) }
    }

    @Test func partitionsAreCreatedAheadAndKeysStayUniqueAcrossThem() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let migrator = Migrator(
                client: database.client, migrations: try TestPostgres.migrations(), logger: TestPostgres.logger,
                options: MigrationOptions(eventPartitionSize: 1_000))
            try await migrator.migrate()
            let ahead = try await Self.partitions(database.client)
            // Two partitions' worth of positions past the head (0) are ready.
            #expect(ahead.map(\.name) == ["events_p0000000000001", "events_p0000000001001"])
            #expect(ahead.map(\.to) == [1_001, 2_001])

            // One batch past the last partition: the store creates the partitions it needs and writes again (the
            // statement that failed took positions it did not use: positions may have gaps, never repeats).
            let store = database.makeEventStore()
            let outcomes = try await store.append((1...3_500).map { makeEvent(key: "k\($0)", user: "u\($0 % 7)") })
            let positions = outcomes.compactMap { outcome -> Int64? in
                if case .appended(let position) = outcome { return position } else { return nil }
            }
            #expect(positions.count == 3_500 && positions == positions.sorted() && Set(positions).count == 3_500)
            let grown = try await Self.partitions(database.client)
            #expect(grown.last!.to > positions.last! + 2 * 1_000)
            let placed = try await database.client.query(
                "SELECT tableoid::regclass::text FROM events WHERE position = \(positions.last!)")[0].decode(String.self, at: 0)
            #expect(placed == grown.first { $0.from <= positions.last! && positions.last! < $0.to }?.name)
            #expect(placed != "events_p0000000000001")

            // A key of the first partition is a duplicate for ever, alone or in a batch, in or out of a transaction.
            #expect(try await store.append([makeEvent(key: "k1")]) == [.duplicate(existingPosition: positions[0])])
            let mixed = try await store.append([makeEvent(key: "new-1"), makeEvent(key: "k2"), makeEvent(key: "new-1")])
            guard case .appended(let new1) = mixed[0] else { Issue.record("\(mixed)"); return }
            #expect(new1 > positions.last!)
            #expect(Array(mixed.dropFirst()) == [.duplicate(existingPosition: positions[1]), .duplicate(existingPosition: new1)])
            let inTransaction = try await database.client.withTransaction { connection in
                try await store.append([makeEvent(key: "k3"), makeEvent(key: "new-2")], on: connection)
            }
            guard case .appended(let new2) = inTransaction[1] else { Issue.record("\(inTransaction)"); return }
            #expect(inTransaction[0] == .duplicate(existingPosition: positions[2]) && new2 > new1)

            // Readers see one log across partitions, in order; the partitions refuse changes like the log does.
            let read = try await store.readSettled(after: .origin, limit: 10_000)
            #expect(read.events.map(\.position) == positions + [new1, new2])
            for statement in ["UPDATE \(placed) SET type = 'x'", "DELETE FROM \(placed)", "UPDATE events SET type = 'x'"] {
                let error = await #expect(throws: PQError.self) { try await database.client.execute(PQQuery(unsafeSQL: statement)) }
                #expect(error?.sqlState == "HS001")
            }
            // A new partition size applies to the partitions created from then on.
            let resized = Migrator(
                client: database.client, migrations: try TestPostgres.migrations(), logger: TestPostgres.logger,
                options: MigrationOptions(eventPartitionSize: 5_000))
            try await resized.migrate()
            let last = try await Self.partitions(database.client).last!
            #expect(last.to - last.from == 5_000)
        }
    }

    /// An existing log of three million events migrates while three clients append (some of them retrying old keys, one in
    /// transactions of its own) and
    /// a reader follows the log: the old table becomes the first partition as it is (same table, same file), every
    /// acknowledged append is stored once, old keys stay duplicates, and the reader sees every event once.
    @Test func anExistingLogMigratesOnlineWhileAppendsAndReadsGoOn() async throws {
        try await TestPostgres.withDatabase(migrated: false, maximumConnections: 12) { database in
            let client = database.client
            try await PQClient.withStatementTimeout(.zero) {
                try await Migrator(client: client, migrations: try Self.migrations(through: 20), logger: TestPostgres.logger).migrate()
                let filled: Int64 = 3_000_000
                for chunk in stride(from: Int64(0), to: filled, by: 500_000) {
                    try await client.execute(
                        """
                        INSERT INTO events (stream, type, source, idempotency_key, occurred_at, payload)
                        SELECT 'contact:u' || (g % 50000), 'segment.track', 'segment', 'fill-' || g, now(),
                               jsonb_build_object('type', 'track', 'event', 'Filled', 'userId', 'u' || (g % 50000))
                        FROM generate_series(\(chunk + 1), \(chunk + 500_000)) AS g
                        """)
                }
                let before = try await client.query(
                    "SELECT oid::bigint, relfilenode::bigint FROM pg_class WHERE oid = 'events'::regclass")[0].decode((Int64, Int64).self)

                let store = database.makeEventStore()
                // The reader's checkpoint: taken before any append of the test.
                let start = try await client.withConnection { try await store.currentCursor(on: $0) }.cursor
                let migrated = MigrationDone()
                // Appenders: new keys, and now and then a key of the filled log (a client's retry): must stay a duplicate.
                let appenders = (0..<3).map { writer in
                    Task { () -> (acknowledged: [String: Int64], duplicates: Int) in
                        var acknowledged: [String: Int64] = [:]
                        var duplicates = 0
                        var after = 0
                        var sequence = 0
                        while after < 40 {
                            if migrated.flag.load(ordering: .relaxed) { after += 1 }
                            sequence += 1
                            let keys = (0..<(1 + sequence % 8)).map { "live-\(writer)-\(sequence)-\($0)" }
                            var batch = keys.map { makeEvent(key: $0, user: "w\(writer)") }
                            let old = sequence % 10 == 0 ? Int64.random(in: 1...filled) : nil
                            if let old { batch.append(makeEvent(key: "fill-\(old)", user: "w\(writer)")) }
                            // The third client appends inside its own transactions (as a request with rejections
                            // does): across the switch it may get a retryable failure, and its retry succeeds.
                            var outcomes: [AppendOutcome] = []
                            while true {
                                do {
                                    outcomes =
                                        writer == 2
                                        ? try await client.withTransaction { try await store.append(batch, on: $0) }
                                        : try await store.append(batch)
                                    break
                                } catch let error as PQError where writer == 2 && error.isRetryable {
                                    try await Task.sleep(for: .milliseconds(20))
                                }
                            }
                            for (key, outcome) in zip(keys, outcomes) {
                                guard case .appended(let position) = outcome else { Issue.record("\(key): \(outcome)"); continue }
                                acknowledged[key] = position
                            }
                            if let old {
                                #expect(outcomes.last == .duplicate(existingPosition: old))
                                duplicates += 1
                            }
                            try await Task.sleep(for: .milliseconds(5))
                        }
                        return (acknowledged, duplicates)
                    }
                }
                // A reader following the log from the checkpoint, through the migration.
                let reader = Task { () -> [Int64] in
                    var cursor = start
                    var seen: [Int64] = []
                    var quiet = 0
                    while quiet < 20 {
                        let page = try await store.read(after: cursor, limit: 2_000)
                        seen += page.events.map(\.position)
                        cursor = page.nextCursor
                        if page.events.isEmpty && !page.isHeldBack && migrated.flag.load(ordering: .relaxed) {
                            quiet += 1
                            try await Task.sleep(for: .milliseconds(50))
                        } else if page.events.isEmpty {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    }
                    return seen
                }

                try await Task.sleep(for: .milliseconds(300))
                let applied = try await Migrator(
                    client: client, migrations: try TestPostgres.migrations(), logger: TestPostgres.logger,
                    options: MigrationOptions(keyCopyBatch: 250_000)
                ).migrate()
                #expect(applied.map(\.version).contains(21))
                migrated.flag.store(true, ordering: .relaxed)
                var acknowledged: [String: Int64] = [:]
                var duplicates = 0
                for appender in appenders {
                    let result = try await appender.value
                    acknowledged.merge(result.acknowledged) { first, _ in first }
                    duplicates += result.duplicates
                }
                let seen = try await reader.value
                #expect(duplicates > 0)

                // The old table is the first partition, not a copy of it.
                let first = try await client.query(
                    "SELECT oid::bigint, relfilenode::bigint FROM pg_class WHERE oid = 'events_p0000000000001'::regclass")[0]
                    .decode((Int64, Int64).self)
                #expect(first == before)
                #expect(try await client.query("SELECT relkind::text FROM pg_class WHERE oid = 'events'::regclass")[0]
                    .decode(String.self, at: 0) == "p")

                // Every acknowledged append once, at its position; every event has its key; nothing else was stored.
                let stored = try await client.query(
                    """
                    SELECT e.idempotency_key, e.position FROM events e
                    WHERE e.idempotency_key LIKE 'live-%'
                    """).map { try $0.decode((String, Int64).self) }
                #expect(stored.count == acknowledged.count)
                #expect(Dictionary(stored, uniquingKeysWith: { first, _ in first }) == acknowledged)
                let counts = try await client.query(
                    """
                    SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM event_keys),
                           (SELECT count(*) FROM events e LEFT JOIN event_keys k
                                ON k.source = e.source AND k.idempotency_key = e.idempotency_key AND k.position = e.position
                            WHERE k.position IS NULL)
                    """)[0].decode((Int64, Int64, Int64).self)
                #expect(counts.0 == filled + Int64(acknowledged.count))
                #expect(counts.1 == counts.0)
                #expect(counts.2 == 0)

                // The reader saw each new event once, none skipped.
                #expect(Set(seen).count == seen.count)
                #expect(Set(seen) == Set(acknowledged.values))

                // After the switch: a filled key is still a duplicate, a new one gets the next position.
                #expect(try await store.append([makeEvent(key: "fill-1")]) == [.duplicate(existingPosition: 1)])
                let next = try await store.append([makeEvent(key: "after-switch")])
                let head = filled + Int64(acknowledged.count)
                guard case .appended(let position) = next[0] else { Issue.record("\(next)"); return }
                #expect(position > head)
                let switchDuration = try await client.query(
                    "SELECT duration_ms FROM hubsignal_migrations WHERE version = 21")[0].decode(Int.self, at: 0)
                print("online migration of \(filled) events: the switch (0021's transaction) took \(switchDuration) ms")
            }
        }
    }
}
