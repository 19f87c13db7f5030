import EventStore
import Foundation
import Logging
import Mapping
import Metrics
import PQ

/// A projection that cannot run as asked, with what to do.
public struct ProjectionError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The stored state of a projection (`projections` row and checkpoint).
public struct ProjectionStatus: Sendable {
    public var name: String
    /// `nil` before the projection first ran.
    public var version: String?
    public var checkpoint: LogCursor?
    public var rebuiltAt: Date?
}

/// Rebuilds a projection from the whole log into shadow tables and swaps them in, while the live tables keep
/// answering (and the live projector keeps running until the swap).
///
/// 1. `CREATE TABLE hubsignal_rebuild.<t> (LIKE <t> INCLUDING ALL)` for each table of the projection (the schema is
///    the migrations'; the role needs `CREATE` on it only).
/// 2. Replays the log from the origin into them, batch by batch (each batch its own short transaction).
/// 3. In one transaction: takes the projection's subscription lock (waiting for a running live batch to end), replays
///    what arrived meanwhile, drops the live tables and moves the shadow tables in (`hubsignal_swap_read_models`, with
///    the schema owner's rights), and sets the checkpoint and the version. Queries see the old tables or the new ones, never a mix; the live projector continues
///    from the new checkpoint.
///
/// Views that users defined on the old tables go with them: re-create them after a rebuild (docs/read-models.md).
public struct ProjectionRebuild: Sendable {
    public struct Progress: Sendable {
        /// Events replayed so far.
        public var events: Int
        /// Where the log ended when the rebuild started (an estimate of the total).
        public var headPosition: Int64
        /// The position of the last replayed event.
        public var position: Int64
        /// The replay has reached the head it started from; the new tables are being written.
        public var isWriting = false
        public var isSwapping: Bool
    }

    public static let shadowSchema = "hubsignal_rebuild"

    let store: EventStore
    let mapping: Mapping
    let logger: Logger
    /// Events per replay batch.
    public var batchSize = 5_000
    /// Contacts and companies kept in memory during the replay (above it the cache is emptied and rows are loaded again).
    public var cacheLimit = 2_000_000

    public init(store: EventStore, mapping: Mapping, logger: Logger) {
        self.store = store
        self.mapping = mapping
        self.logger = logger
    }

    /// The stored state of the people projection.
    public static func status(client: PQClient) async throws -> ProjectionStatus {
        let rows = try await client.query(
            """
            SELECT p.version, p.rebuilt_at, c.transaction_id, c.position
            FROM (SELECT \(PeopleProjection.name)::text AS name) n
            LEFT JOIN projections p ON p.name = n.name
            LEFT JOIN subscription_checkpoints c ON c.name = n.name
            """, name: "projections.status")
        let (version, rebuiltAt, transactionID, position) = try rows[0].decode((String?, Date?, UInt64?, Int64?).self)
        let checkpoint = transactionID.flatMap { id in position.map { LogCursor(transactionID: id, position: $0) } }
        return ProjectionStatus(name: PeopleProjection.name, version: version, checkpoint: checkpoint, rebuiltAt: rebuiltAt)
    }

    /// Rebuilds the people projection; returns the number of events replayed.
    @discardableResult
    public func run(progress: @escaping @Sendable (Progress) -> Void = { _ in }) async throws -> Int {
        let client = store.client
        // Read models never depend on archived partitions: a rebuild needs the whole log.
        try await ArchivedHistory.refuseWhileArchived(client: client, work: "a rebuild of the read models")
        let liveSchema = try await client.query("SELECT current_schema()", name: "projections.schema")[0].decode(String.self, at: 0)
        // Its statements (COPY into the new tables, the swap's locks) last as long as the log is large: no statement
        // timeout for any connection it uses.
        return try await PQClient.withStatementTimeout(.zero) {
            try await runAlone(liveSchema: liveSchema, progress: progress)
        }
    }

    /// Replays and swaps under a session lock: one rebuild at a time (a second one would drop the first one's shadow
    /// tables).
    private func runAlone(liveSchema: String, progress: @escaping @Sendable (Progress) -> Void) async throws -> Int {
        let client = store.client
        let name = PeopleProjection.name
        return try await client.withConnection { lockConnection in
            let locked = try await lockConnection.query(
                "SELECT pg_try_advisory_lock(\(Subscription.lockClass), hashtext(\("rebuild:" + name)))", name: "projections.rebuild_lock")
            guard try locked[0].decode(Bool.self, at: 0) else {
                throw ProjectionError("another rebuild of '\(name)' is running; wait for it to finish")
            }
            func unlock() async throws {
                _ = try await lockConnection.query(
                    "SELECT pg_advisory_unlock(\(Subscription.lockClass), hashtext(\("rebuild:" + name)))",
                    name: "projections.rebuild_unlock")
            }
            do {
                let total = try await replayAndSwap(liveSchema: liveSchema, progress: progress)
                try await unlock()
                return total
            } catch {
                try? await unlock()
                throw error
            }
        }
    }

    private func replayAndSwap(liveSchema: String, progress: @escaping @Sendable (Progress) -> Void) async throws -> Int {
            let client = store.client
            let name = PeopleProjection.name
            let shadow = Self.shadowSchema
            try await client.withTransaction { connection in
                // The shadow schema is the migration's (0016); the service role may create tables in it, not schemas.
                for table in PeopleTables.names {
                    try await connection.execute("DROP TABLE IF EXISTS \(identifier: shadow).\(identifier: table) CASCADE")
                    try await connection.execute(
                        """
                        CREATE TABLE \(identifier: shadow).\(identifier: table)
                            (LIKE \(identifier: liveSchema).\(identifier: table) INCLUDING ALL)
                        """)
                }
            }
            let head = try await store.headPosition()
            let projection = PeopleProjection(
                mapping: mapping, schema: shadow, startsEmpty: true, cacheLimit: cacheLimit, logger: logger)
            var cursor = LogCursor.origin
            var replayed = 0
            let started = ContinuousClock.now
            var lastReport = started
            let progressGauge = Gauge(label: "hubsignal_projection_rebuild_events", dimensions: [("projection", name)])
            logger.info("rebuilding projection", metadata: ["projection": "\(name)", "log.head": "\(head)"])
            // Replay until the horizon (events committed now); what arrives later is replayed during the swap.
            // Three stages overlap: reading page n+1, decoding page n, applying page n-1 (at most `lookahead` pages
            // ahead). No transaction per batch: the shadow tables are private to this rebuild; a failure abandons them.
            var pages = PagePipeline(store: store, batchSize: batchSize, after: cursor, lookahead: 2)
            defer { pages.cancel() }
            while let (page, decoding) = try await pages.next() {
                let inputs = await decoding.value
                let start = cursor
                cursor = page.nextCursor
                try await client.withConnection { connection in
                    try await projection.apply(page.events, decoded: inputs, after: start, on: connection, deferWrites: true)
                }
                replayed += page.events.count
                let now = ContinuousClock.now
                if now - lastReport > .seconds(5) {
                    lastReport = now
                    logger.info(
                        "rebuild progress",
                        metadata: ["projection": "\(name)", "events": "\(replayed)", "position": "\(cursor.position)", "log.head": "\(head)"])
                }
                progressGauge.record(replayed)
                progress(Progress(events: replayed, headPosition: head, position: cursor.position, isSwapping: false))
            }
            // Write what the replay kept in memory before the swap, so that the swap transaction stays short.
            let replayedAt = ContinuousClock.now
            progress(Progress(events: replayed, headPosition: head, position: cursor.position, isWriting: true, isSwapping: false))
            try await projection.writePending(using: client)
            logger.info(
                "rebuild replayed the log and wrote the new tables",
                metadata: [
                    "projection": "\(name)", "events": "\(replayed)", "replay.duration": "\(replayedAt - started)",
                    "write.duration": "\(ContinuousClock.now - replayedAt)",
                ])
            progress(Progress(events: replayed, headPosition: head, position: cursor.position, isSwapping: true))
            // The swap.
            let total = try await client.withTransaction { connection -> Int in
                _ = try await connection.query(
                    "SELECT pg_advisory_xact_lock(\(Subscription.lockClass), hashtext(\(name)))", name: "projections.swap_lock")
                // Read everything that arrived meanwhile before writing anything: once this transaction writes, it has a
                // transaction id, and reads would wait behind it.
                var swapCursor = cursor
                var pending: [RecordedEvent] = []
                while true {
                    let page = try await store.read(after: swapCursor, limit: batchSize, on: connection)
                    if page.events.isEmpty {
                        if page.isHeldBack {
                            try await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        break
                    }
                    pending.append(contentsOf: page.events)
                    swapCursor = page.nextCursor
                }
                if !pending.isEmpty { try await projection.apply(pending, after: cursor, on: connection, deferWrites: true) }
                try await projection.writePending(on: connection)
                let caughtUp = replayed + pending.count
                // hubsignal_swap_read_models (migration 0016) drops the live tables and moves the shadow ones in with the
                // schema owner's rights: the service role needs no CREATE on the live schema.
                _ = try await connection.query(
                    "SELECT hubsignal_swap_read_models(\(PeopleTables.names)::text[])", name: "projections.swap")
                try await Self.record(
                    name: name, version: PeopleProjection.version(mapping: mapping), mapping: mapping, checkpoint: swapCursor,
                    rebuiltEvents: caughtUp, on: connection)
                return caughtUp
            }
            let seconds = (ContinuousClock.now - started)
            logger.info(
                "projection rebuilt and swapped in",
                metadata: ["projection": "\(name)", "events": "\(total)", "duration": "\(seconds)"])
            return total
    }

    /// Stores the projection's version and checkpoint (after a rebuild, or when a fresh database starts the projection).
    static func record(
        name: String, version: String, mapping: Mapping, checkpoint: LogCursor?, rebuiltEvents: Int?, on connection: PQConnection
    ) async throws {
        try await connection.execute(
            """
            INSERT INTO projections (name, version, mapping_version, schema_version, rebuilt_at, rebuilt_events, updated_at)
            VALUES (\(name), \(version), \(mapping.version), \(Int32(PeopleProjection.schemaVersion)),
                    CASE WHEN \(rebuiltEvents != nil) THEN now() END, \(rebuiltEvents ?? 0), now())
            ON CONFLICT (name) DO UPDATE SET version = EXCLUDED.version, mapping_version = EXCLUDED.mapping_version,
                schema_version = EXCLUDED.schema_version,
                rebuilt_at = COALESCE(EXCLUDED.rebuilt_at, projections.rebuilt_at),
                rebuilt_events = CASE WHEN EXCLUDED.rebuilt_at IS NOT NULL THEN EXCLUDED.rebuilt_events ELSE projections.rebuilt_events END,
                updated_at = now()
            """, name: "projections.record")
        if let checkpoint {
            try await connection.execute(
                """
                INSERT INTO subscription_checkpoints (name, transaction_id, position, events_processed, updated_at)
                VALUES (\(name), \(String(checkpoint.transactionID))::xid8, \(checkpoint.position), \(rebuiltEvents ?? 0), now())
                ON CONFLICT (name) DO UPDATE SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position,
                    events_processed = EXCLUDED.events_processed, updated_at = now()
                """, name: "projections.set_checkpoint")
        }
    }
}

/// Reads the log ahead of a replay and decodes each page on its own task, at most `lookahead` pages ahead, until it
/// reaches the events committed now (waiting while a running transaction holds the reader back).
struct PagePipeline {
    private var pages: AsyncThrowingStream<(LogPage, Task<[PeopleInput], Never>), any Error>.Iterator
    private let permits: AsyncStream<Void>.Continuation
    private let producer: Task<Void, Never>

    init(store: EventStore, batchSize: Int, after start: LogCursor, lookahead: Int) {
        let (pages, output) = AsyncThrowingStream<(LogPage, Task<[PeopleInput], Never>), any Error>.makeStream()
        let (permitStream, permits) = AsyncStream<Void>.makeStream()
        for _ in 0..<lookahead { permits.yield() }
        self.pages = pages.makeAsyncIterator()
        self.permits = permits
        producer = Task {
            var cursor = start
            do {
                for await _ in permitStream {
                    var page = try await store.read(after: cursor, limit: batchSize)
                    while page.events.isEmpty && page.isHeldBack {
                        try await Task.sleep(for: .milliseconds(20))
                        page = try await store.read(after: cursor, limit: batchSize)
                    }
                    if page.events.isEmpty { break }
                    cursor = page.nextCursor
                    let events = page.events
                    output.yield((page, Task { events.map(PeopleInput.init) }))
                }
                output.finish()
            } catch {
                output.finish(throwing: error)
            }
        }
    }

    /// The next page and its decoding, or `nil` when the replay has caught up.
    mutating func next() async throws -> (LogPage, Task<[PeopleInput], Never>)? {
        let item = try await pages.next()
        if item != nil { permits.yield() }
        return item
    }

    func cancel() {
        producer.cancel()
        permits.finish()
    }
}
