import PQ

/// Which events a filtered read takes: those of `streams` (their whole history), those of any stream among the log's
/// `recentPositions` most recent positions, and those of other streams `mentioning` finds, that also satisfy
/// `condition`.
public struct LogFilter: Sendable {
    /// Streams whose every event is a candidate, read through the `(stream, position)` index.
    public var streams: [String]
    /// How many of the log's most recent positions are also candidates, whatever their stream (a bounded scan of the
    /// primary key); 0: none.
    public var recentPositions: Int64
    /// The condition a candidate must satisfy: SQL over the event's columns by name (`payload`, `type`, `source`,
    /// `stream`, `position`, …), values interpolated as binds.
    public var condition: PQQuery
    /// A condition an index answers (e.g. the `events_mentions` GIN index) that finds candidates on other streams
    /// across the whole log, older than the recent positions; `nil`: none. `condition` still checks them.
    public var mentioning: PQQuery?

    public init(streams: [String], recentPositions: Int64 = 0, mentioning: PQQuery? = nil, condition: PQQuery = "true") {
        self.streams = streams
        self.recentPositions = max(0, recentPositions)
        self.mentioning = mentioning
        self.condition = condition
    }
}

extension EventStore {
    /// Which end of the matching events a limited read takes.
    public enum ReadEnd: Sendable, Hashable {
        /// The first `limit` after the cursor.
        case oldest
        /// The last `limit` after the cursor.
        case newest
    }

    /// Reads up to `limit` events after `cursor` that `filter` takes, oldest first in read order, never past the oldest
    /// running transaction (like `read(after:limit:)`).
    ///
    /// The page's `nextCursor` is where to continue so that nothing is skipped and nothing read twice: after the last
    /// event of a full `.oldest` page; otherwise the newest event a reader can see now, since every event up to it was
    /// looked at (never behind `cursor`).
    ///
    /// The statement is planned for its values each time: the best plan depends on the streams and the window.
    public func read(matching filter: LogFilter, after cursor: LogCursor = .origin, limit: Int, taking end: ReadEnd = .oldest)
        async throws -> LogPage
    {
        precondition(limit > 0, "limit must be positive")
        let order = end == .oldest ? "ASC" : "DESC"
        var mentioned: PQQuery = ""
        if let mentioning = filter.mentioning {
            mentioned = """

                    UNION ALL
                    SELECT \(unsafeRaw: RecordedEvent.columns) FROM events
                    WHERE (\(fragment: mentioning)) AND stream <> ALL(\(filter.streams)::text[])
                      AND position <= (SELECT COALESCE(max(position), 0) FROM events) - \(filter.recentPositions)::bigint
                """
        }
        // One statement, so one snapshot: the page and the head it was read up to agree. Two disjoint branches, whose
        // conditions PostgreSQL pushes into each: the streams through `events_stream`, and the recent positions of the
        // other streams through the primary key (after a cursor near the head both read only the new rows through
        // `events_log_order`), and with `mentioning` a third one, older than the window, through its index. The last columns carry the head and the held-back flag on every row, and on one
        // all-NULL row when the page is empty.
        let query: PQQuery = """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
            head AS MATERIALIZED (
                SELECT transaction_id, position FROM events, horizon WHERE transaction_id < horizon.xmin
                ORDER BY transaction_id DESC, position DESC LIMIT 1
            ),
            page AS MATERIALIZED (
                SELECT \(unsafeRaw: RecordedEvent.columns)
                FROM (
                    SELECT \(unsafeRaw: RecordedEvent.columns) FROM events WHERE stream = ANY(\(filter.streams)::text[])
                    UNION ALL
                    SELECT \(unsafeRaw: RecordedEvent.columns) FROM events
                    WHERE position > (SELECT COALESCE(max(position), 0) FROM events) - \(filter.recentPositions)::bigint
                      AND stream <> ALL(\(filter.streams)::text[])\(fragment: mentioned)
                ) AS events
                WHERE (transaction_id, position) > (\(cursor.transactionID)::xid8, \(cursor.position)::bigint)
                  AND transaction_id < (SELECT xmin FROM horizon)
                  AND (\(fragment: filter.condition))
                ORDER BY transaction_id \(unsafeRaw: order), position \(unsafeRaw: order)
                LIMIT \(limit)
            )
            SELECT page.*, (SELECT transaction_id FROM head), (SELECT position FROM head),
                   COALESCE((SELECT max(transaction_id) FROM events) >= (SELECT xmin FROM horizon), false)
            FROM (SELECT) AS one LEFT JOIN page ON true
            ORDER BY page.transaction_id, page.position
            """
        let rows = try await client.query(query.named("events.read_matching").planEachTime())
        var events: [RecordedEvent] = []
        events.reserveCapacity(rows.count)
        var head: LogCursor?
        var heldBack = false
        for row in rows {
            let column = RecordedEvent.columnCount
            let (headTransaction, headPosition, isHeldBack) = try (
                row.decode(UInt64?.self, at: column), row.decode(Int64?.self, at: column + 1), row.decode(Bool.self, at: column + 2)
            )
            if let headTransaction, let headPosition { head = LogCursor(transactionID: headTransaction, position: headPosition) }
            heldBack = isHeldBack
            if row.isNull(at: 0) { break }
            events.append(try RecordedEvent(row: row))
        }
        let next: LogCursor
        if end == .oldest, events.count == limit, let last = events.last {
            next = last.cursor
        } else {
            next = max(events.last?.cursor ?? cursor, head ?? cursor, cursor)
        }
        return LogPage(events: events, isHeldBack: heldBack, nextCursor: next)
    }
}
