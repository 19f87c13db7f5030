import Domain
import EventStore
import Foundation
import Ingestion
import Logging
import Mapping
import PQ

/// Sends the history of matching events to HubSpot on request (`hubsignal replay hubspot --events`): queues into
/// `hubspot_event_outbox` the behavioral events, custom object records and timeline entries the mapping derives from
/// the log's events that occurred in a time window, for the running HubSpot sync to send like live ones.
///
/// - Opt-in: nothing of the history is sent unless a backfill is run; the live `hubspot-events` subscription starts at
///   the end of the log.
/// - Once: a row is queued once ever (`hubspot_event_queued`), by the live subscription or a backfill, whichever comes
///   first; an event already sent is not queued again, and HubSpot's idempotency keys (the occurrence's uuid) stay the
///   live ones.
/// - Resumable: the scan is a subscription of its own (checkpoint `hubspot-events-backfill:<from>:<to>`), saved in the
///   transaction that queues its rows; run the same command again after a crash and it continues where it stopped.
///   The checkpoint stays where a complete scan ended (the service role may not delete checkpoints): running the same
///   window again reads only the events recorded since.
/// - Rate-limited: the HubSpot sync sends the rows through its rate limiter; the backfill keeps at most `maximumQueued`
///   rows waiting in the outbox, so live events are not held behind the whole history.
public struct HubSpotEventBackfill: Sendable {
    /// Progress after a step.
    public struct Progress: Sendable, Equatable {
        /// The position the scan has read through.
        public var position: Int64
        /// The log's head when this run began (where the scan stops).
        public var end: Int64
        /// Events read in this run.
        public var read: Int
        /// Outbox rows queued in this run.
        public var queued: Int
        /// Whether the scan is complete.
        public var isComplete: Bool
    }

    let store: EventStore
    let outbox: HubSpotEventOutbox
    let since: Date
    let until: Date
    /// The most outbox rows (live or backfilled) waiting before the backfill queues more.
    public var maximumQueued: Int = 2000
    /// How long to wait for the sync to drain the outbox below `maximumQueued`.
    public var pollInterval: Duration = .seconds(1)
    /// Events read per step.
    public var batchSize: Int = 500

    /// A backfill of the events that occurred in `[since, until)`, as `mapping` turns them into HubSpot outputs now.
    /// `portalID` is needed for behavioral events (their names carry it); without it only notes, timeline events and
    /// custom object records are queued.
    public init(store: EventStore, mapping: Mapping, portalID: String?, since: Date, until: Date) {
        self.store = store
        self.outbox = HubSpotEventOutbox(mapping: mapping, portalID: portalID)
        self.since = since
        self.until = until
    }

    /// The checkpoint name of this window's scan.
    public var name: String {
        "\(HubSpotEventOutbox.name)-backfill:\(ISO8601Timestamp.format(since)):\(ISO8601Timestamp.format(until))"
    }

    /// Whether the mapping sends anything the backfill could queue.
    public var isEnabled: Bool { outbox.isEnabled }

    /// Runs the scan to its end (events up to the log's head when it began), calling `report` after each step; an error
    /// `report` throws stops the run there, the steps before it kept (a later run continues after them).
    ///
    /// Waits while the outbox holds `maximumQueued` rows or more: the running HubSpot sync (`hubsignal serve`) drains it.
    public func run(logger: Logger, report: (Progress) throws -> Void = { _ in }) async throws -> Progress {
        let end = try await store.headPosition()
        let counter = QueuedCounter()
        let outbox = self.outbox
        let (since, until) = (since, until)
        var configuration = Subscription.Configuration(name: name)
        configuration.startPosition = .origin
        configuration.batchSize = batchSize
        let subscription = Subscription(configuration: configuration, store: store, watcher: LogWatcher(), logger: logger) { events, connection in
            let window = events.filter { $0.occurredAt >= since && $0.occurredAt < until && $0.position <= end }
            let queued = try await outbox.queue(window, on: connection)
            await counter.add(read: events.count, queued: queued)
        }
        var progress = Progress(position: try await checkpoint()?.position ?? 0, end: end, read: 0, queued: 0, isComplete: false)
        // To the end of what is readable (events after `end` are left to the live subscription); the scan reads far
        // faster than events arrive, so it gets there.
        while !progress.isComplete {
            while try await waiting() >= maximumQueued { try await Task.sleep(for: pollInterval) }
            switch try await subscription.processNextBatch() {
            case .processed(_, let cursor):
                progress.position = min(cursor.position, end)
            case .idle(let isHeldBack):
                if isHeldBack {
                    try await Task.sleep(for: .milliseconds(20))
                } else {
                    progress.position = end
                    progress.isComplete = true
                }
            case .busy:
                throw HubSpotEventBackfillError("another backfill of this window is running (\(name))")
            }
            (progress.read, progress.queued) = await counter.totals
            try report(progress)
        }
        return progress
    }

    /// Where the last run of this window stopped (interrupted or complete); `nil` before the first.
    public func checkpoint() async throws -> LogCursor? {
        let rows = try await store.client.query(
            "SELECT transaction_id, position FROM subscription_checkpoints WHERE name = \(name)", name: "backfill.checkpoint")
        guard let row = rows.first else { return nil }
        let (transactionID, position) = try row.decode((UInt64, Int64).self)
        return LogCursor(transactionID: transactionID, position: position)
    }

    private func waiting() async throws -> Int {
        let rows = try await store.client.query("SELECT count(*) FROM hubspot_event_outbox", name: "backfill.waiting")
        return Int(try rows[0].decode(Int64.self, at: 0))
    }
}

extension HubSpotEventBackfill {
    /// The HubSpot event outbox as `hubsignal status` shows it.
    public struct Status: Sendable, Equatable {
        /// Outbox rows waiting for the sync.
        public var waiting: Int
        /// Each backfill window run so far: its checkpoint name, the position it has read through, and the events of
        /// the log after that position (0 once it has read to the end).
        public var backfills: [(name: String, position: Int64, unread: Int64)]

        public static func == (lhs: Status, rhs: Status) -> Bool {
            lhs.waiting == rhs.waiting && lhs.backfills.map(\.name) == rhs.backfills.map(\.name)
                && lhs.backfills.map(\.position) == rhs.backfills.map(\.position)
                && lhs.backfills.map(\.unread) == rhs.backfills.map(\.unread)
        }
    }

    /// Reads the outbox's waiting rows and the backfills' checkpoints.
    public static func status(client: PQClient) async throws -> Status {
        let waiting = try await client.query("SELECT count(*) FROM hubspot_event_outbox", name: "backfill.status_waiting")
        let rows = try await client.query(
            """
            SELECT c.name, c.position,
                   (SELECT count(*) FROM events e WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position))
            FROM subscription_checkpoints c
            WHERE starts_with(c.name, \(HubSpotEventOutbox.name + "-backfill:"))
            ORDER BY c.name
            """, name: "backfill.status")
        return Status(
            waiting: Int(try waiting[0].decode(Int64.self, at: 0)),
            backfills: try rows.map { row in
                let (name, position, unread) = try row.decode((String, Int64, Int64).self)
                return (name, position, unread)
            })
    }
}

/// A backfill that cannot run as asked.
public struct HubSpotEventBackfillError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private actor QueuedCounter {
    private(set) var read = 0
    private(set) var queued = 0
    var totals: (Int, Int) { (read, queued) }

    func add(read: Int, queued: Int) {
        self.read += read
        self.queued += queued
    }
}
