import Foundation
import Logging
import Metrics
import PQ
import ServiceLifecycle

/// A catch-up reader of the event log with a persisted checkpoint: it reads forward in batches and hands each batch to
/// its handler inside one transaction that also stores the checkpoint, so the handler's writes take effect exactly
/// once.
///
/// Only one process at a time works on a subscription (a transaction-scoped advisory lock per name); others find it
/// busy and wait. The handler must only use the connection it is given for writes that belong to the batch.
public final class Subscription: Sendable, Service {
    /// Where a subscription without a checkpoint starts.
    public enum StartPosition: Sendable, Hashable {
        /// From the first event.
        case origin
        /// After the events committed when it first runs (once no older running transaction hides any of them).
        case current
        /// After the given cursor.
        case after(LogCursor)
    }

    /// What to do when the handler throws.
    public enum ErrorPolicy: Sendable, Hashable {
        /// Roll back, wait (exponential backoff with jitter, capped at `maximumBackoff`) and try the batch again.
        case retry(maximumBackoff: Duration)
        /// Roll back and stop the subscription by throwing from `run()`.
        case stop
    }

    /// How the subscription reads.
    public struct Configuration: Sendable {
        /// The subscription's name: the key of its checkpoint.
        public var name: String
        /// Events per batch (and per transaction). Defaults to `500`.
        public var batchSize: Int = 500
        /// Where to start without a checkpoint. Defaults to `.origin`.
        public var startPosition: StartPosition = .origin
        /// How long to wait for a notification before looking again anyway. Defaults to one second.
        public var pollInterval: Duration = .seconds(1)
        /// How soon to look again when a running transaction holds the reader back. Defaults to 20 ms.
        public var heldBackRetryInterval: Duration = .milliseconds(20)
        /// Defaults to retrying with backoff up to 30 seconds.
        public var errorPolicy: ErrorPolicy = .retry(maximumBackoff: .seconds(30))

        /// A configuration with the defaults and the checkpoint name `name`.
        public init(name: String) {
            self.name = name
        }
    }

    /// The result of one step.
    public enum BatchOutcome: Sendable, Equatable {
        /// A batch was handled and the checkpoint moved to `checkpoint`.
        case processed(count: Int, checkpoint: LogCursor)
        /// Nothing to read; `isHeldBack` when a running transaction hides newer events.
        case idle(isHeldBack: Bool)
        /// Another process is working on this subscription.
        case busy
    }

    /// The handler of a batch: write read-model changes through `connection`, inside the batch's transaction.
    public typealias Handler = @Sendable (_ events: [RecordedEvent], _ connection: PQConnection) async throws -> Void

    /// The subscription's configuration.
    public let configuration: Configuration
    let store: EventStore
    let watcher: LogWatcher
    let logger: Logger
    let handler: Handler
    let processedCounter: Counter
    let failureCounter: Counter
    let lagGauge: Gauge
    /// Events in the log after the last batch this process handled.
    let lagEventsGauge: Gauge

    /// Creates a subscription. Nothing runs until `run()` or `processNextBatch()`.
    public init(
        configuration: Configuration, store: EventStore, watcher: LogWatcher, logger: Logger,
        metricsFactory: (any MetricsFactory)? = nil, handler: @escaping Handler
    ) {
        precondition(configuration.batchSize > 0, "batchSize must be positive")
        self.configuration = configuration
        self.store = store
        self.watcher = watcher
        self.handler = handler
        var logger = logger
        logger[metadataKey: "subscription.name"] = "\(configuration.name)"
        self.logger = logger
        let factory = metricsFactory ?? MetricsSystem.factory
        let dimensions = [("subscription", configuration.name)]
        processedCounter = Counter(label: "hubsignal_subscription_events_processed_total", dimensions: dimensions, factory: factory)
        failureCounter = Counter(label: "hubsignal_subscription_failures_total", dimensions: dimensions, factory: factory)
        lagGauge = Gauge(label: "hubsignal_subscription_lag_seconds", dimensions: dimensions, factory: factory)
        lagEventsGauge = Gauge(label: "hubsignal_subscription_lag_events", dimensions: dimensions, factory: factory)
    }

    /// Reads and handles the next batch in one transaction.
    @discardableResult
    public func processNextBatch() async throws -> BatchOutcome {
        let name = configuration.name
        let outcome = try await store.client.withTransaction { connection -> BatchOutcome in
            let locked = try await connection.query(
                "SELECT pg_try_advisory_xact_lock(\(Self.lockClass), hashtext(\(name)))", name: "subscription.lock")
            guard try locked[0].decode(Bool.self, at: 0) else { return .busy }

            let cursor: LogCursor
            if let saved = try await Self.checkpoint(named: name, on: connection) {
                cursor = saved
            } else {
                switch configuration.startPosition {
                case .origin: cursor = .origin
                case .after(let start): cursor = start
                case .current:
                    // "Now" is only known once no older transaction hides recent appends; until then, wait.
                    let current = try await store.currentCursor(on: connection)
                    if current.isHeldBack { return .idle(isHeldBack: true) }
                    cursor = current.cursor
                    try await saveCheckpoint(cursor, processed: 0, on: connection)
                }
            }
            let page = try await store.read(after: cursor, limit: configuration.batchSize, on: connection)
            guard let last = page.events.last else { return .idle(isHeldBack: page.isHeldBack) }
            try await handler(page.events, connection)
            try await saveCheckpoint(page.nextCursor, processed: page.events.count, on: connection)
            lagGauge.record(max(0, Date().timeIntervalSince(last.recordedAt)))
            // Events committed after this batch's last one (the log's head is one backward index step).
            let head = try await connection.query("SELECT COALESCE(max(position), 0) FROM events", name: "subscription.head")
            lagEventsGauge.record(max(0, try head[0].decode(Int64.self, at: 0) - last.position))
            return .processed(count: page.events.count, checkpoint: page.nextCursor)
        }
        switch outcome {
        case .processed(let count, _): processedCounter.increment(by: count)
        case .idle:
            lagGauge.record(0)
            lagEventsGauge.record(0)
        case .busy: break
        }
        return outcome
    }

    /// The stored checkpoint, or `nil` before the first batch.
    public func checkpoint() async throws -> LogCursor? {
        try await store.client.withConnection { connection in
            try await Self.checkpoint(named: configuration.name, on: connection)
        }
    }

    /// Handles batches until graceful shutdown or cancellation; sleeps between them when idle, waking on
    /// notifications.
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await self.loop()
        }
    }

    private func loop() async throws {
        var consecutiveFailures = 0
        var heldBackDelay = configuration.heldBackRetryInterval
        while !Task.isCancelled {
            let generation = watcher.generation
            let outcome: BatchOutcome
            do {
                outcome = try await processNextBatch()
                consecutiveFailures = 0
            } catch {
                if Task.isCancelled { return }
                failureCounter.increment()
                switch configuration.errorPolicy {
                case .stop:
                    logger.error("subscription handler failed; stopping", metadata: ["error": "\(error)"])
                    throw error
                case .retry(let maximumBackoff):
                    consecutiveFailures += 1
                    let delay = Self.backoff(attempt: consecutiveFailures, maximum: maximumBackoff)
                    logger.warning(
                        "subscription batch failed; retrying",
                        metadata: ["error": "\(error)", "retry.attempt": "\(consecutiveFailures)", "retry.delay": "\(delay)"])
                    try? await Task.sleep(for: delay)
                    continue
                }
            }
            switch outcome {
            case .processed:
                heldBackDelay = configuration.heldBackRetryInterval
            case .idle(let isHeldBack):
                if isHeldBack {
                    await watcher.wait(afterGeneration: generation, timeout: heldBackDelay)
                    heldBackDelay = min(heldBackDelay * 2, configuration.pollInterval)
                } else {
                    heldBackDelay = configuration.heldBackRetryInterval
                    await watcher.wait(afterGeneration: generation, timeout: configuration.pollInterval)
                }
            case .busy:
                await watcher.wait(afterGeneration: generation, timeout: configuration.pollInterval)
            }
        }
    }

    /// Exponential backoff from 100 ms with ±50 % jitter, capped at `maximum`.
    static func backoff(attempt: Int, maximum: Duration) -> Duration {
        let base = Duration.milliseconds(100) * (1 << min(attempt - 1, 20))
        let capped = min(base, maximum)
        return capped * Double.random(in: 0.5...1.5)
    }

    /// The first key of the advisory locks of subscriptions (the second is `hashtext(name)`).
    public static let lockClass: Int32 = 0x4853_0001

    static func checkpoint(named name: String, on connection: PQConnection) async throws -> LogCursor? {
        let rows = try await connection.query(
            "SELECT transaction_id, position FROM subscription_checkpoints WHERE name = \(name)", name: "subscription.checkpoint")
        guard let row = rows.first else { return nil }
        let (transactionID, position) = try row.decode((UInt64, Int64).self)
        return LogCursor(transactionID: transactionID, position: position)
    }

    private func saveCheckpoint(_ cursor: LogCursor, processed: Int, on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO subscription_checkpoints (name, transaction_id, position, events_processed, updated_at)
            VALUES (\(configuration.name), \(cursor.transactionID)::xid8, \(cursor.position), \(processed), now())
            ON CONFLICT (name) DO UPDATE
            SET transaction_id = EXCLUDED.transaction_id, position = EXCLUDED.position,
                events_processed = subscription_checkpoints.events_processed + EXCLUDED.events_processed,
                updated_at = EXCLUDED.updated_at
            """, name: "subscription.save_checkpoint")
    }
}
