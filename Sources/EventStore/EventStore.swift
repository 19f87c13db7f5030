import Domain
import Foundation
import Logging
import Metrics
import PQ

/// The append-only event log in PostgreSQL (`events`): appends with idempotency, and reads in a gap-free order.
///
/// ``append(_:)`` is durable on return. An event whose `(source, idempotencyKey)` is already stored (earlier, or earlier
/// in the same batch) is reported as ``AppendOutcome/duplicate(existingPosition:)`` and not stored again. Concurrent
/// appends share statements and commits (group commit, at most `appendWriters` statements at once); when a shared
/// statement fails because of one batch's data, each batch is written again on its own, so only that batch's caller
/// sees the error.
///
/// Positions can become visible out of order (they are taken before commit), so readers read in `(transaction_id,
/// position)` order and never past the oldest running transaction, and checkpoint a ``LogCursor``.
public struct EventStore: Sendable {
    /// The client the store uses.
    public let client: PQClient
    let logger: Logger
    let appendedCounter: Counter
    let duplicateCounter: Counter
    let groupCommit: GroupCommit
    let layouts = LogLayoutCache()

    /// Creates a store on `client`; it opens nothing until the first append or read.
    ///
    /// - Parameters:
    ///   - client: the pool the store's statements run on.
    ///   - logger: where the store logs (at `info` and below).
    ///   - metricsFactory: where the appended and duplicate counters go; `nil`: the bootstrapped `MetricsSystem`.
    ///   - appendWriters: how many append statements may run at once (group commit); appends beyond it wait and are
    ///     then written together. At least 1; by default one per core of this machine, and at least 2 (so that one
    ///     statement runs while another commits).
    public init(
        client: PQClient, logger: Logger, metricsFactory: (any MetricsFactory)? = nil,
        appendWriters: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)
    ) {
        self.client = client
        self.logger = logger
        groupCommit = GroupCommit(maximumWriters: max(1, appendWriters))
        let factory = metricsFactory ?? MetricsSystem.factory
        appendedCounter = Counter(label: "hubsignal_events_appended_total", dimensions: [], factory: factory)
        duplicateCounter = Counter(label: "hubsignal_events_duplicate_total", dimensions: [], factory: factory)
    }

    // MARK: - Appending

    /// Appends a batch and returns one outcome per event, in order. Durable (committed) on return; the commit may be
    /// shared with concurrent appends (see "group commit" above).
    @discardableResult
    public func append(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        try Self.validate(events)
        let store = self
        return try await groupCommit.append(events) { group in await store.write(group) }
    }

    /// Writes a group of batches with one statement and returns one result per batch. When the statement fails
    /// because of the data of one batch, writes each batch alone, so that the error reaches that batch's caller only.
    func write(_ group: [[NewEvent]]) async -> [Result<[AppendOutcome], any Error>] {
        func alone(_ events: [NewEvent]) async -> Result<[AppendOutcome], any Error> {
            do {
                return .success(try await client.withConnection { connection in try await append(events, on: connection) })
            } catch {
                return .failure(error)
            }
        }
        if group.count == 1 { return [await alone(group[0])] }
        do {
            let outcomes = try await client.withConnection { connection in
                try await append(group.flatMap { $0 }, on: connection)
            }
            var results: [Result<[AppendOutcome], any Error>] = []
            var start = 0
            for batch in group {
                results.append(.success(Array(outcomes[start..<(start + batch.count)])))
                start += batch.count
            }
            return results
        } catch let error as PQError where ["22", "23", "40", "54"].contains(error.sqlState?.prefix(2) ?? "") {
            // Data (22, 23, 54), or a rollback (40): a deadlock between two shared statements that hold the same keys in
            // different orders (a retried request queued beside its first copy). Written one by one, each batch holds
            // its keys only for its own short statement; a deadlock that still happens reaches its caller as an error
            // to retry.
            var results: [Result<[AppendOutcome], any Error>] = []
            for batch in group { results.append(await alone(batch)) }
            return results
        } catch {
            return group.map { _ in .failure(error) }
        }
    }

    /// Appends a batch on `connection`, inside the caller's transaction if one is open (so that result events and
    /// the caller's own writes commit together).
    ///
    /// Works on both layouts of the log (one table, or partitioned with keys in `event_keys`), including while
    /// `hubsignal migrate` switches from one to the other: a statement that finds the other layout is written again
    /// with that layout's statement, when no transaction of the caller's is open (inside one, the caller gets a
    /// retryable serialization failure, 40001, and its retry uses the new layout).
    @discardableResult
    public func append(_ events: [NewEvent], on connection: PQConnection) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        try Self.validate(events)
        let batch = AppendBatch(events)
        var layout = try await layouts.layout(on: connection)
        var attempts = 0
        while true {
            do {
                return try await append(batch, layout: layout, on: connection)
            } catch let error as PQError where attempts < 3 && LogLayoutCache.mayBeLayoutChange(error) {
                attempts += 1
                // Inside the caller's transaction the failed statement aborted it: learn what changed on another
                // connection, and let the caller's retry use it.
                let inTransaction = connection.transactionStatus != .idle
                let current = try await layouts.detect(on: inTransaction ? nil : connection, client: client)
                if current != layout {
                    logger.info("the event log's layout changed", metadata: ["log.layout": "\(current)"])
                    layout = current
                    if inTransaction {
                        // The caller's transaction is aborted; running it again (now on the new layout) succeeds.
                        throw PQError(
                            code: .server, message: "the event log was partitioned while this transaction appended; run it again",
                            sqlState: "40001", queryName: "events.append", underlying: error)
                    }
                } else if current == .partitioned, error.sqlState == LogLayoutCache.noPartitionState {
                    // A row past the last partition: create the partitions ahead, then write again.
                    let query = LogLayoutCache.addPartitions(room: batch.count)
                    _ = try await (inTransaction ? client.query(query) : connection.query(query))
                } else {
                    throw error
                }
                if inTransaction { throw error }
            }
        }
    }

    private func append(_ batch: AppendBatch, layout: LogLayout, on connection: PQConnection) async throws -> [AppendOutcome] {
        let count = batch.count
        // Outside a transaction, first the fast path: a plain INSERT, which costs about a third less than
        // `ON CONFLICT` (no speculative insertion). Duplicates are rare (retried requests); when the batch holds one,
        // the statement fails as a whole with a unique violation and the batch goes through the statement below.
        // Inside the caller's transaction a failed statement would abort it, so there only the statement below runs.
        if connection.transactionStatus == .idle {
            do {
                let query = layout == .partitioned ? batch.insertNewPartitioned : batch.insertNewUnpartitioned
                let rows = try await connection.query(query, name: layout == .partitioned ? "events.append_keys_new" : "events.append_new")
                // Positions are taken in insertion order, which is input order: the i-th smallest is the i-th event.
                var positions = try rows.map { try $0.decode(Int64.self, at: 0) }
                guard positions.count == count else {
                    throw PQError(
                        code: .protocolViolation, message: "the append returned \(positions.count) rows for \(count) events",
                        queryName: "events.append_new")
                }
                positions.sort()
                appendedCounter.increment(by: count)
                return positions.map { .appended(position: $0) }
            } catch let error as PQError where error.sqlState == "23505" {
                // A key is already stored (or repeated in the batch): nothing of this statement was kept.
            }
        }
        // One statement: insert what is new, and for each input row report the position it was stored at or the
        // position of the event that already held its key (looked up only for rows that were not inserted).
        let rows = try await connection.query(
            layout == .partitioned ? batch.insertPartitioned : batch.insertUnpartitioned,
            name: layout == .partitioned ? "events.append_keys" : "events.append")
        guard rows.count == count else {
            throw PQError(
                code: .protocolViolation, message: "the append returned \(rows.count) rows for \(count) events",
                queryName: "events.append")
        }
        var outcomes: [AppendOutcome?] = Array(repeating: nil, count: count)
        var claimed: Set<Int64> = []
        var appended = 0
        var racing: [Int] = []
        for (index, row) in rows.enumerated() {
            let (insertedPosition, existingPosition) = try row.decode((Int64?, Int64?).self)
            if let position = insertedPosition {
                // Several rows of the batch can share a key: the first one was stored, the others are duplicates.
                if claimed.insert(position).inserted {
                    outcomes[index] = .appended(position: position)
                    appended += 1
                } else {
                    outcomes[index] = .duplicate(existingPosition: position)
                }
            } else if let position = existingPosition {
                outcomes[index] = .duplicate(existingPosition: position)
            } else {
                // Another transaction stored the key after this statement's snapshot was taken.
                racing.append(index)
            }
        }
        if !racing.isEmpty {
            let racingSources = racing.map { batch.sources[$0] }
            let racingKeys = racing.map { batch.keys[$0] }
            let existing = try await connection.query(
                layout == .partitioned
                    ? """
                    SELECT k.position, k.source, k.idempotency_key
                    FROM unnest(\(racingSources)::text[], \(racingKeys)::text[]) AS wanted(source, idempotency_key)
                    JOIN event_keys k USING (source, idempotency_key)
                    """
                    : """
                    SELECT e.position, e.source, e.idempotency_key
                    FROM unnest(\(racingSources)::text[], \(racingKeys)::text[]) AS wanted(source, idempotency_key)
                    JOIN events e USING (source, idempotency_key)
                    """, name: "events.find_duplicates")
            var found: [String: Int64] = [:]
            for row in existing {
                let (position, source, key) = try row.decode((Int64, String, String).self)
                found[source + "\u{0}" + key] = position
            }
            for index in racing {
                guard let position = found[batch.sources[index] + "\u{0}" + batch.keys[index]] else {
                    throw PQError(
                        code: .protocolViolation, message: "event \(index) was neither stored nor found as a duplicate",
                        queryName: "events.append")
                }
                outcomes[index] = .duplicate(existingPosition: position)
            }
        }
        appendedCounter.increment(by: appended)
        if appended < count { duplicateCounter.increment(by: count - appended) }
        return outcomes.map { $0! }
    }

    static func validate(_ events: [NewEvent]) throws {
        for (index, event) in events.enumerated() {
            if event.stream.isEmpty { throw EventStoreError("event \(index) has an empty stream", index: index) }
            if event.type.rawValue.isEmpty { throw EventStoreError("event \(index) has an empty type", index: index) }
            if event.idempotencyKey.isEmpty { throw EventStoreError("event \(index) has an empty idempotency key", index: index) }
            if !EventSource.all.contains(event.source) {
                throw EventStoreError(
                    "event \(index) has the unknown source '\(event.source)'; use one of \(EventSource.all.map(\.rawValue))",
                    index: index)
            }
        }
    }

    // MARK: - Reading

    /// Reads up to `limit` events after `cursor`, in read order, never past the oldest running transaction.
    public func read(after cursor: LogCursor, limit: Int) async throws -> LogPage {
        try await client.withConnection { connection in
            try await read(after: cursor, limit: limit, on: connection)
        }
    }

    /// Reads up to `limit` events after `cursor` on `connection`.
    public func read(after cursor: LogCursor, limit: Int, on connection: PQConnection) async throws -> LogPage {
        precondition(limit > 0, "limit must be positive")
        // One statement, so one snapshot: the page and the "held back" flag must agree. (Two statements would let a
        // commit in between make an empty page look final.) The outer LEFT JOIN yields one all-NULL row when the page
        // is empty, to carry the flag. "Held back" means committed events exist at or above the horizon; it needs no
        // cursor condition (a cursor always lies below an earlier horizon, and horizons only move forward), and
        // `max(transaction_id)` is one step down the index, where an EXISTS was planned as a sequential scan.
        let rows = try await connection.query(
            """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
            page AS MATERIALIZED (
                SELECT \(unsafeRaw: RecordedEvent.columns)
                FROM events
                WHERE (transaction_id, position) > (\(cursor.transactionID)::xid8, \(cursor.position)::bigint)
                  AND transaction_id < (SELECT xmin FROM horizon)
                ORDER BY transaction_id, position
                LIMIT \(limit)
            )
            SELECT page.*,
                   COALESCE((SELECT max(transaction_id) FROM events) >= (SELECT xmin FROM horizon), false)
            FROM (SELECT) AS one LEFT JOIN page ON true
            ORDER BY page.transaction_id, page.position
            """, name: "events.read")
        var events: [RecordedEvent] = []
        events.reserveCapacity(rows.count)
        var heldBack = false
        for row in rows {
            heldBack = try row.decode(Bool.self, at: RecordedEvent.columnCount)
            if row.isNull(at: 0) { break }
            events.append(try RecordedEvent(row: row))
        }
        return LogPage(events: events, isHeldBack: heldBack, nextCursor: events.last?.cursor ?? cursor)
    }

    /// The events of one stream from `position` on, in position order.
    public func events(inStream stream: String, fromPosition position: Int64 = 0, limit: Int = 1000) async throws -> [RecordedEvent] {
        let rows = try await client.query(
            """
            SELECT \(unsafeRaw: RecordedEvent.columns) FROM events
            WHERE stream = \(stream) AND position >= \(position)
            ORDER BY position LIMIT \(limit)
            """, name: "events.stream")
        return try rows.map { try RecordedEvent(row: $0) }
    }

    /// The highest position stored, or 0 for an empty log.
    public func headPosition() async throws -> Int64 {
        let rows = try await client.query("SELECT COALESCE(max(position), 0) FROM events", name: "events.head")
        return try rows[0].decode(Int64.self, at: 0)
    }

    /// How many events a reader whose checkpoint is `cursor` has not read yet: those after it in readers'
    /// `(transaction_id, position)` order; every event for `nil`. (Not `head − checkpoint position`: a caught-up reader
    /// can hold a lower position than the newest event, when a transaction that began earlier appended last.)
    public func unreadCount(after cursor: LogCursor?) async throws -> Int64 {
        let cursor = cursor ?? .origin
        let rows = try await client.query(
            """
            SELECT count(*) FROM events
            WHERE (transaction_id, position) > (\(cursor.transactionID)::xid8, \(cursor.position)::bigint)
            """, name: "events.unread_count")
        return try rows[0].decode(Int64.self, at: 0)
    }

    /// The cursor of the newest event a reader can see now, and whether newer committed or running appends are still
    /// hidden behind an older running transaction (then the cursor is not yet "now").
    public func currentCursor(on connection: PQConnection) async throws -> (cursor: LogCursor, isHeldBack: Bool) {
        let rows = try await connection.query(
            """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
            SELECT (SELECT transaction_id FROM events, horizon WHERE transaction_id < horizon.xmin
                    ORDER BY transaction_id DESC, position DESC LIMIT 1),
                   (SELECT position FROM events, horizon WHERE transaction_id < horizon.xmin
                    ORDER BY transaction_id DESC, position DESC LIMIT 1),
                   COALESCE((SELECT max(transaction_id) FROM events) >= (SELECT xmin FROM horizon), false)
            """, name: "events.current_cursor")
        let (transactionID, position, heldBack) = try rows[0].decode((UInt64?, Int64?, Bool).self)
        guard let transactionID, let position else { return (.origin, heldBack) }
        return (LogCursor(transactionID: transactionID, position: position), heldBack)
    }
}
