import EventStore
import Foundation
import Logging
import Mapping
import PQ
import ServiceLifecycle

/// Runs the people projection inside `serve`: checks the stored version against the mapping (rebuilding when they
/// differ and `autoRebuild` allows it), then follows the log as a subscription.
public struct PeopleProjectionService: Service {
    let store: EventStore
    let watcher: LogWatcher
    let mapping: Mapping
    let autoRebuild: Bool
    let logger: Logger
    /// Events per live batch.
    public var batchSize = 1_000

    public init(store: EventStore, watcher: LogWatcher, mapping: Mapping, autoRebuild: Bool, logger: Logger) {
        self.store = store
        self.watcher = watcher
        self.mapping = mapping
        self.autoRebuild = autoRebuild
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await prepare()
            try await makeSubscription().run()
        }
    }

    /// Makes the stored projection match this mapping: records it on a fresh database, rebuilds it after a change.
    public func prepare() async throws {
        let version = PeopleProjection.version(mapping: mapping)
        while !Task.isCancelled {
            let status = try await ProjectionRebuild.status(client: store.client)
            if status.version == version { return }
            if status.version == nil {
                // First start: the tables are empty and the subscription builds them from the first event.
                try await store.client.withTransaction { connection in
                    try await ProjectionRebuild.record(
                        name: PeopleProjection.name, version: version, mapping: mapping, checkpoint: nil, rebuiltEvents: nil,
                        on: connection)
                }
                return
            }
            guard autoRebuild else {
                throw ProjectionError(
                    """
                    the '\(PeopleProjection.name)' projection was built with version \(status.version!), and the mapping now \
                    gives \(version): run `hubsignal rebuild`, or set HUBSIGNAL_AUTO_REBUILD=true to rebuild on start
                    """)
            }
            logger.notice(
                "the mapping changed: rebuilding the projection while the old tables keep answering",
                metadata: ["projection": "\(PeopleProjection.name)", "version.stored": "\(status.version!)", "version.new": "\(version)"])
            do {
                try await ProjectionRebuild(store: store, mapping: mapping, logger: logger).run()
                return
            } catch let error as ProjectionError where error.description.contains("another rebuild") {
                // Another process is rebuilding (perhaps with this same mapping): look again when it is done.
                logger.info("another process is rebuilding the projection; waiting", metadata: ["projection": "\(PeopleProjection.name)"])
                try await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// The subscription that applies the log to the read models batch by batch (`run()` drives it; tests and tools can
    /// step it with `processNextBatch()`).
    public func makeSubscription() -> Subscription {
        var configuration = Subscription.Configuration(name: PeopleProjection.name)
        configuration.batchSize = batchSize
        let projection = PeopleProjection(mapping: mapping, logger: logger)
        let version = PeopleProjection.version(mapping: mapping)
        return Subscription(configuration: configuration, store: store, watcher: watcher, logger: logger) { events, connection in
            let rows = try await connection.query(
                """
                SELECT p.version, c.transaction_id, c.position
                FROM projections p LEFT JOIN subscription_checkpoints c ON c.name = p.name
                WHERE p.name = \(PeopleProjection.name)
                """, name: "people.batch_guard")
            let (stored, transactionID, position) = try rows.first?.decode((String, UInt64?, Int64?).self) ?? ("", nil, nil)
            guard stored == version else {
                throw ProjectionError(
                    """
                    the '\(PeopleProjection.name)' projection is now at version \(stored) (rebuilt by another process), \
                    this process projects version \(version): restart it with the same mapping file
                    """)
            }
            let checkpoint = transactionID.flatMap { id in position.map { LogCursor(transactionID: id, position: $0) } }
            try await projection.apply(events, after: checkpoint, on: connection)
        }
    }
}

extension PeopleProjectionService: CustomStringConvertible {
    /// How ServiceLifecycle's logs name the service (not its whole mapping).
    public var description: String { "PeopleProjectionService(mapping: \(mapping.version))" }
}
