import EventStore
import Logging
import ServiceLifecycle

/// Keeps partitions of the log ready ahead of its head: at start, then every `interval`. A failure is logged and
/// tried again at the next round (appends also create partitions when a row finds none).
struct EventPartitionMaintenance: Service {
    let store: EventStore
    var interval: Duration = .seconds(300)
    let logger: Logger

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let created = try await store.addPartitions()
                if created > 0 { logger.info("created partitions of the event log", metadata: ["partitions.created": "\(created)"]) }
            } catch {
                logger.warning("could not create the event log's partitions ahead: \(error)")
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
