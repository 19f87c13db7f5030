import EventStore
import Logging
import ServiceLifecycle

/// A sync worker whose rounds claim ledger rows: a round runs on a copy of the worker carrying its claims' token.
protocol ClaimingWorker: Sendable {
    /// The ``ClaimHolder`` token of the round in progress, carried by its claims (`nil`: the lease only).
    var claimToken: Int64? { get set }
    /// One round under `claimToken`. Returns how many objects were claimed (0: no work).
    ///
    /// - Parameter steppingOutbox: whether to move the worker's outbox subscription one batch first.
    func claimingRound(steppingOutbox: Bool) async throws -> Int
}

extension ClaimingWorker {
    /// One round whose claims carry `holder`'s token (see ``SyncRounds/underClaims(of:_:)``).
    func runOnce(steppingOutbox: Bool, holder: ClaimHolder?) async throws -> Int {
        try await SyncRounds.underClaims(of: holder) { token in
            var worker = self
            worker.claimToken = token
            return try await worker.claimingRound(steppingOutbox: steppingOutbox)
        }
    }
}

/// How a sync worker runs as a service: its outbox subscription (if any) follows the log on its own, while rounds
/// run until shutdown, pausing `pollInterval` whenever a round found nothing to do; a failed round is logged, recorded
/// with `record`, and tried again.
enum SyncRounds {
    /// - Parameter holder: a ``ClaimHolder`` the worker owns: it runs until the last round has ended (so the rounds'
    ///   claims stay tied to a live session until they are recorded), then stops. `nil` when it is run elsewhere.
    static func run(
        name: String, outbox: Subscription?, holder: ClaimHolder?, pollInterval: Duration, logger: Logger,
        round: @escaping @Sendable () async throws -> Int, record: @escaping @Sendable (String) async -> Void
    ) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            if let outbox { group.addTask { try await outbox.run() } }
            if let holder { group.addTask { await holder.hold() } }
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

    /// Runs one round with the token of `holder`, which the round's claims carry: `round(nil)` without a holder (claims
    /// tied to the lease only); nothing (`0`) while the holder holds no token; and when the holder's session ends
    /// during the round, the round is cancelled and counts as `0` (its claims are other workers' to take now).
    static func underClaims(
        of holder: ClaimHolder?, _ round: @escaping @Sendable (_ token: Int64?) async throws -> Int
    ) async throws -> Int {
        guard let holder else { return try await round(nil) }
        guard let token = holder.token else { return 0 }
        return try await holder.whileHeld(token) { try await round(token) } ?? 0
    }
}
