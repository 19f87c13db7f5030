import EventStore
import Foundation
import PQ

/// The bench's direct access to the log's tables for `scale`: which layout the migrations built, raw COPY of rows into
/// the real tables (the fill and the "ceiling"), and the log's size on disk.
///
/// On the partitioned layout (migration 0021: `events` partitioned by position, keys in `event_keys`) a COPY writes the
/// keys and the events with explicit positions reserved from `event_keys`' identity sequence, in one transaction, after
/// `hubsignal_add_event_partitions()` made the partitions that hold them; on the unpartitioned layout (migrations up to
/// 0020) `events` assigns positions itself. Only this bench writes while it copies, so reserving by `setval` is safe.
struct ScaleLog {
    /// How `events` is laid out in the scratch database.
    enum Layout: String, CaseIterable, Sendable {
        /// Migration 0021's: partitions by position range and the `event_keys` table.
        case partitioned
        /// Today's before 0021: one table whose unique constraint holds the idempotency keys.
        case unpartitioned
    }

    /// A row for COPY: the event and its `occurred_at` already in text.
    struct Row: Sendable {
        var event: NewEvent
        var occurredAt: String
    }

    static let keysTable = "event_keys"
    /// The newest migration of the unpartitioned layout.
    static let lastUnpartitionedVersion = 20
    /// Distinct generated events the fill repeats (each copy with a key of its own).
    static let poolSize = 100_000
    /// Rows per COPY transaction of the fill.
    static let fillChunk = 100_000

    let client: PQClient
    let layout: Layout
    /// `event_keys`' position sequence (partitioned layout only).
    private let sequence: String?

    init(client: PQClient) async throws {
        self.client = client
        let kind = try await client.query("SELECT c.relkind::text FROM pg_class c WHERE c.oid = 'events'::regclass")[0]
            .decode(String.self, at: 0)
        if kind == "p" {
            layout = .partitioned
            sequence = try await client.query("SELECT pg_get_serial_sequence(\(Self.keysTable), 'position')")[0]
                .decode(String?.self, at: 0)
            guard sequence != nil else { throw BenchError("event_keys.position has no identity sequence") }
        } else {
            layout = .unpartitioned
            sequence = nil
        }
    }

    /// `EventGenerator`'s events on the streams ingestion puts them on (`user:<userId>`, as `SegmentNormalizer` does;
    /// the generator's `contact:user-N` is a stream no contact's history or erasure reads).
    static func asIngested(_ events: [NewEvent]) -> [NewEvent] {
        events.map { event in
            var event = event
            if event.stream.hasPrefix("contact:") { event.stream = "user:" + event.stream.dropFirst("contact:".count) }
            return event
        }
    }

    /// Rows ready for COPY.
    static func rows(_ events: [NewEvent]) -> [Row] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return events.map { Row(event: $0, occurredAt: formatter.string(from: $0.occurredAt)) }
    }

    /// The highest position stored (0 for an empty log).
    func head() async throws -> Int64 {
        try await client.query("SELECT COALESCE(max(position), 0) FROM events")[0].decode(Int64.self, at: 0)
    }

    /// Events stored (an exact count: it reads the whole log's smallest index).
    func count() async throws -> Int64 {
        try await client.query("SELECT count(*) FROM events")[0].decode(Int64.self, at: 0)
    }

    /// The bytes the log takes on disk, tables, TOAST and indexes: every partition and `event_keys`, or the one table.
    func bytesOnDisk() async throws -> Int64 {
        switch layout {
        case .partitioned:
            return try await client.query(
                """
                SELECT COALESCE((SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
                                 WHERE i.inhparent = 'events'::regclass), 0)::bigint
                       + pg_total_relation_size(\(Self.keysTable)::regclass)
                """)[0].decode(Int64.self, at: 0)
        case .unpartitioned:
            return try await client.query("SELECT pg_total_relation_size('events'::regclass)")[0].decode(Int64.self, at: 0)
        }
    }

    /// The attached partitions (0 on the unpartitioned layout).
    func partitionCount() async throws -> Int {
        guard layout == .partitioned else { return 0 }
        return Int(try await client.query("SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass")[0]
            .decode(Int64.self, at: 0))
    }

    /// Copies `count` rows with raw COPY into the log's own tables over `streams` parallel connections, each in
    /// transactions of at most `chunk` rows; row `n` (0-based) is `rows(n)`. Returns the seconds it took.
    func copy(count: Int, streams: Int, chunk: Int, rows: @escaping @Sendable (Int) -> Row) async throws -> Double {
        let chunks = stride(from: 0, to: count, by: chunk).map { $0..<min($0 + chunk, count) }
        let next = WorkCursor()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, streams) {
                group.addTask {
                    while case let index = next.take(), index < chunks.count {
                        try await copyChunk(chunks[index], rows: rows)
                    }
                }
            }
            try await group.waitForAll()
        }
        return (ContinuousClock.now - start).seconds
    }

    /// One transaction: on the partitioned layout, reserve positions, make their partitions, COPY the keys, COPY the
    /// events; on the unpartitioned one, COPY the events.
    private func copyChunk(_ range: Range<Int>, rows: @escaping @Sendable (Int) -> Row) async throws {
        switch layout {
        case .unpartitioned:
            let copied = try await client.withConnection { connection in
                try await connection.copyIn(
                    "COPY events (stream, type, source, idempotency_key, occurred_at, payload, metadata) FROM STDIN"
                ) { writer in
                    for index in range {
                        let row = rows(index)
                        try CopyReference.writeRow(row.event, occurredAt: row.occurredAt, into: &writer)
                    }
                }
            }
            guard copied == range.count else { throw BenchError("COPY reported \(copied) rows, expected \(range.count)") }
        case .partitioned:
            let first = try await reserve(range.count)
            try await client.withTransaction { connection in
                let keys = try await connection.copyIn(
                    "COPY \(identifier: Self.keysTable) (source, idempotency_key, position) FROM STDIN"
                ) { writer in
                    for (offset, index) in range.enumerated() {
                        let row = rows(index)
                        writer.append(row.event.source.rawValue)
                        writer.append(row.event.idempotencyKey)
                        writer.append(String(first + Int64(offset)))
                        try writer.endRow()
                    }
                }
                let events = try await connection.copyIn(
                    "COPY events (position, stream, type, source, idempotency_key, occurred_at, payload, metadata) FROM STDIN"
                ) { writer in
                    for (offset, index) in range.enumerated() {
                        let row = rows(index)
                        writer.append(String(first + Int64(offset)))
                        try CopyReference.writeRow(row.event, occurredAt: row.occurredAt, into: &writer)
                    }
                }
                guard keys == range.count, events == range.count else {
                    throw BenchError("COPY reported \(keys) keys and \(events) events, expected \(range.count)")
                }
            }
        }
    }

    /// Reserves `count` positions of the log's sequence (one statement, so parallel streams never share one) and makes
    /// the partitions that hold them; returns the first.
    private func reserve(_ count: Int) async throws -> Int64 {
        guard let sequence else { throw BenchError("no position sequence on the unpartitioned layout") }
        // nextval takes the first, setval moves past the rest; the lock keeps two reservations from interleaving.
        let last = try await client.withTransaction { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock(hashtext('hubsignal-bench scale reserve'))")
            return try await connection.query(
                "SELECT setval(\(sequence)::regclass, nextval(\(sequence)::regclass) + \(Int64(count) - 1))")[0]
                .decode(Int64.self, at: 0)
        }
        _ = try await client.query("SELECT hubsignal_add_event_partitions()")
        return last - Int64(count) + 1
    }
}
