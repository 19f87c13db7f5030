import PQ

/// Which events a filtered read takes: those of `streams` (their whole history), those of any stream among the log's
/// `recentPositions` most recent positions, and those of other streams `mentioning` finds, that also satisfy
/// `condition`.
public struct LogFilter: Sendable {
    /// Streams whose every event is a candidate, read through the `(stream, position)` index.
    public var streams: [String]
    /// How many of the log's most recent events are also candidates, whatever their stream (a bounded backward scan of
    /// the primary key: exactly that many rows); 0: none.
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
        let columns = RecordedEvent.columns
        // The recent window: the `recentPositions` newest events, read backwards along the primary key (a LIMIT keeps
        // the other conditions out, so exactly that many rows are read, whatever the size of the log).
        var recent: PQQuery = ""
        var branches: PQQuery = ""
        if filter.recentPositions > 0 {
            recent = """
                recent AS MATERIALIZED (
                    SELECT \(unsafeRaw: columns) FROM events ORDER BY position DESC LIMIT \(filter.recentPositions)::bigint
                ),
                """
            branches = """

                    UNION ALL
                    SELECT \(unsafeRaw: columns) FROM recent WHERE stream <> ALL(\(filter.streams)::text[])
                """
        }
        if let mentioning = filter.mentioning {
            let olderThanWindow: PQQuery =
                filter.recentPositions > 0
                ? "AND position < (SELECT COALESCE(min(position), 9223372036854775807) FROM recent)" : ""
            branches = """
                \(fragment: branches)
                    UNION ALL
                    SELECT \(unsafeRaw: columns) FROM events
                    WHERE (\(fragment: mentioning)) AND stream <> ALL(\(filter.streams)::text[]) \(fragment: olderThanWindow)
                """
        }
        // One statement, so one snapshot: the page and the head it was read up to agree. Disjoint branches, each with
        // its index: the streams through `events_stream`, the recent window of the other streams through the primary
        // key, and with `mentioning` the older events of other streams through its index. The last columns carry the
        // head and the held-back flag on every row, and on one all-NULL row when the page is empty.
        let query: PQQuery = """
            WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
            head AS MATERIALIZED (
                SELECT transaction_id, position FROM events, horizon WHERE transaction_id < horizon.xmin
                ORDER BY transaction_id DESC, position DESC LIMIT 1
            ),
            \(fragment: recent)
            page AS MATERIALIZED (
                SELECT \(unsafeRaw: columns)
                FROM (
                    SELECT \(unsafeRaw: columns) FROM events WHERE stream = ANY(\(filter.streams)::text[])\(fragment: branches)
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
