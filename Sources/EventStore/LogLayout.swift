import Domain
import Foundation
import PQ
import Synchronization

/// How the log is stored: one table (migrations before 0021), or partitioned by position with the idempotency keys
/// in `event_keys` (whose identity column hands out positions). Reads are the same on both; appends differ.
enum LogLayout: String, Sendable, CustomStringConvertible {
    case unpartitioned, partitioned
    var description: String { rawValue }
}

/// The layout a store last saw, shared by copies of the store; detected on first use and again when a statement
/// fails the way a statement written for the other layout fails.
final class LogLayoutCache: Sendable {
    private let known = Mutex<LogLayout?>(nil)

    /// A row found no partition (its position is past the last one).
    static let noPartitionState = "23514"
    /// Creates the partitions ahead of the head, with room for `room` more positions.
    static func addPartitions(room: Int = 0) -> PQQuery { "SELECT hubsignal_add_event_partitions(\(Int64(room)))" }

    /// Whether `error` is what a statement for the other layout, or a row past the last partition, gets: a position
    /// left NULL (23502), `ON CONFLICT` without its unique index (42P10), `event_keys` missing (42P01), no partition
    /// for the row (23514).
    static func mayBeLayoutChange(_ error: PQError) -> Bool {
        ["23502", "42P10", "42P01", noPartitionState].contains(error.sqlState ?? "")
    }

    func layout(on connection: PQConnection) async throws -> LogLayout {
        if let layout = known.withLock({ $0 }) { return layout }
        return try await detect(on: connection, client: nil)
    }

    /// Reads the layout from the catalog, on `connection` or else on a connection of `client`.
    func detect(on connection: PQConnection?, client: PQClient?) async throws -> LogLayout {
        let query: PQQuery = "SELECT COALESCE((SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass('events')), false)"
        let rows: PQRows
        if let connection {
            rows = try await connection.query(query, name: "events.layout")
        } else if let client {
            rows = try await client.query(query, name: "events.layout")
        } else {
            preconditionFailure("detect(on:client:) needs a connection or a client")
        }
        let layout: LogLayout = try rows[0].decode(Bool.self, at: 0) ? .partitioned : .unpartitioned
        known.withLock { $0 = layout }
        return layout
    }
}

/// A batch's columns as arrays, and the statements that append them on each layout.
struct AppendBatch {
    let streams: [String]
    let types: [String]
    let sources: [String]
    let keys: [String]
    let occurredAt: [Date]
    let payloads: [PQJSONB]
    let metadata: [PQJSONB]

    init(_ events: [NewEvent]) {
        streams = events.map(\.stream)
        types = events.map(\.type.rawValue)
        sources = events.map(\.source.rawValue)
        keys = events.map(\.idempotencyKey)
        occurredAt = events.map(\.occurredAt)
        payloads = events.map(\.payload)
        metadata = events.map(\.metadata)
    }

    var count: Int { streams.count }

    private var input: PQQuery {
        """
        SELECT * FROM unnest(\(streams)::text[], \(types)::text[], \(sources)::text[], \(keys)::text[],
                             \(occurredAt)::timestamptz[], \(payloads)::jsonb[], \(metadata)::jsonb[])
             WITH ORDINALITY AS input(stream, type, source, idempotency_key, occurred_at, payload, metadata, ordinal)
        """
    }

    /// One table, no duplicate expected: fails with 23505 when a key is stored already.
    var insertNewUnpartitioned: PQQuery {
        """
        INSERT INTO events (stream, type, source, idempotency_key, occurred_at, payload, metadata)
        SELECT stream, type, source, idempotency_key, occurred_at, payload, metadata
        FROM (\(fragment: input)) AS input
        ORDER BY ordinal
        RETURNING position
        """
    }

    /// One table: each input row's new position, or the position already holding its key.
    var insertUnpartitioned: PQQuery {
        """
        WITH input AS (\(fragment: input)),
        inserted AS (
            INSERT INTO events (stream, type, source, idempotency_key, occurred_at, payload, metadata)
            SELECT stream, type, source, idempotency_key, occurred_at, payload, metadata FROM input ORDER BY ordinal
            ON CONFLICT (source, idempotency_key) DO NOTHING
            RETURNING position, source, idempotency_key
        )
        SELECT inserted.position,
               CASE WHEN inserted.position IS NULL THEN
                   (SELECT e.position FROM events e
                    WHERE e.source = input.source AND e.idempotency_key = input.idempotency_key)
               END
        FROM input
        LEFT JOIN inserted USING (source, idempotency_key)
        ORDER BY input.ordinal
        """
    }

    /// Partitioned, no duplicate expected: the keys take their positions (in input order), the events follow them;
    /// fails with 23505 when a key is stored already.
    var insertNewPartitioned: PQQuery {
        """
        WITH input AS (\(fragment: input)),
        keys AS (
            INSERT INTO event_keys (source, idempotency_key)
            SELECT source, idempotency_key FROM input ORDER BY ordinal
            RETURNING position, source, idempotency_key
        )
        INSERT INTO events (position, stream, type, source, idempotency_key, occurred_at, payload, metadata)
        SELECT keys.position, input.stream, input.type, input.source, input.idempotency_key, input.occurred_at,
               input.payload, input.metadata
        FROM keys JOIN input USING (source, idempotency_key)
        RETURNING position
        """
    }

    /// Partitioned: each input row's new position, or the position already holding its key (the first of several
    /// rows sharing a key is stored).
    var insertPartitioned: PQQuery {
        """
        WITH input AS (\(fragment: input)),
        keys AS (
            INSERT INTO event_keys (source, idempotency_key)
            SELECT source, idempotency_key FROM input ORDER BY ordinal
            ON CONFLICT (source, idempotency_key) DO NOTHING
            RETURNING position, source, idempotency_key
        ),
        stored AS (
            INSERT INTO events (position, stream, type, source, idempotency_key, occurred_at, payload, metadata)
            SELECT keys.position, first.stream, first.type, first.source, first.idempotency_key, first.occurred_at,
                   first.payload, first.metadata
            FROM keys
            JOIN (SELECT DISTINCT ON (source, idempotency_key COLLATE "C") * FROM input
                  ORDER BY source, idempotency_key COLLATE "C", ordinal) AS first USING (source, idempotency_key)
        )
        SELECT keys.position,
               CASE WHEN keys.position IS NULL THEN
                   (SELECT k.position FROM event_keys k
                    WHERE k.source = input.source AND k.idempotency_key = input.idempotency_key)
               END
        FROM input
        LEFT JOIN keys USING (source, idempotency_key)
        ORDER BY input.ordinal
        """
    }
}

extension EventStore {
    /// Creates the partitions the log needs ahead of its head and returns how many it created (0 on a log that is not
    /// partitioned yet). The service calls it periodically; appends also call it when a row finds no partition.
    @discardableResult
    public func addPartitions() async throws -> Int {
        let rows = try await client.query(
            "SELECT to_regprocedure('hubsignal_add_event_partitions(bigint)') IS NOT NULL", name: "events.partitioned")
        guard try rows[0].decode(Bool.self, at: 0) else { return 0 }
        return try await client.query(LogLayoutCache.addPartitions(), name: "events.add_partitions")[0].decode(Int.self, at: 0)
    }
}
