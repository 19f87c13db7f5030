import EventStore
import Logging
import ServiceLifecycle

/// How a sync worker runs as a service: its outbox subscription (if any) follows the log on its own, while rounds
/// run until shutdown, pausing `pollInterval` whenever a round found nothing to do; a failed round is logged, recorded
/// with `record`, and tried again.
enum SyncRounds {
    static func run(
        name: String, outbox: Subscription?, pollInterval: Duration, logger: Logger,
        round: @escaping @Sendable () async throws -> Int, record: @escaping @Sendable (String) async -> Void
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            if let outbox { group.addTask { try await outbox.run() } }
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                var idle = true
                do {
                    idle = try await round() == 0
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("\(name) round failed; trying again", metadata: ["error": "\(error)"])
                    await record("\(error)")
                }
                if idle {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
                }
            }
            group.cancelAll()
        }
    }
}
