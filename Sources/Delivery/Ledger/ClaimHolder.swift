import Foundation
import Logging
import PQ
import ServiceLifecycle
import Synchronization

/// Ties a sync worker's claims to the life of its process: a random token, held as a session-level advisory lock on a
/// connection of its own and written on every ledger row the worker claims. When the process dies or that connection
/// drops, other workers take the claims over at once (``DeliveryLedger/claimLapsed(_:)``) instead of waiting out the
/// lease.
///
/// When the holder finds its connection lost (checked every `checkInterval`), ``token`` becomes `nil`, a round in
/// progress under the lost token is cancelled (``whileHeld(_:_:)``), and it reconnects with a new token.
///
/// > Note: until that check, a round may go on pushing what another worker may already have taken over. Every push
/// > is safe to repeat (upserts, idempotency keys): the overlap costs a duplicate request, never a duplicate effect.
public final class ClaimHolder: Service, Sendable {
    /// How the holder watches its connection.
    public struct Configuration: Sendable {
        /// How often the connection is checked (a `SELECT 1`). Defaults to 500 milliseconds.
        public var checkInterval: Duration = .milliseconds(500)
        /// The pause before reconnecting after the connection was lost or could not be opened. Defaults to 1 second.
        public var reconnectDelay: Duration = .seconds(1)

        public init() {}
    }

    /// The holder's state: its token while the lock is held, and the rounds waiting for its loss.
    private struct State {
        var token: Int64?
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var cancelled: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }

    public let configuration: Configuration
    /// A pool of one connection: the session that holds the lock.
    private let database: PQClient
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a holder; it connects when it runs.
    ///
    /// - Parameter connectionString: the database of the ledger (a libpq connection string or URI).
    public init(connectionString: String, configuration: Configuration = .init(), logger: Logger) {
        var database = PQClient.Configuration(connectionString: connectionString)
        database.maximumConnections = 1
        database.applicationName = "hubsignal-claims"
        self.database = PQClient(configuration: database, logger: logger)
        self.configuration = configuration
        self.logger = logger
    }

    /// The token this process's claims carry now; `nil` while the holder is not connected (claim nothing then).
    public var token: Int64? {
        state.withLock { $0.token }
    }

    /// Holds a token until graceful shutdown or cancellation, reconnecting with a new token whenever the connection
    /// is lost; then closes its connection, which releases the lock.
    ///
    /// > Warning: run it for as long as the workers that use it claim, and stop it after them: once it stops, their
    /// > claims may be taken over.
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.hold() }
    }

    /// Holds a token until cancelled (see ``run()``).
    func hold() async {
        while !Task.isCancelled {
            do {
                try await database.withConnection { connection in try await holdToken(on: connection) }
            } catch is CancellationError {
                break
            } catch {
                if Task.isCancelled { break }
                logger.info("the claim holder lost its connection; reconnecting", metadata: ["error": "\(error)"])
            }
            release()
            try? await Task.sleep(for: configuration.reconnectDelay)
        }
        release()
        await database.shutdown()
    }

    /// Takes a new token's lock on `connection` and checks the connection until it fails (or the task is cancelled).
    private func holdToken(on connection: PQConnection) async throws {
        // The same session may come back after an error that did not break it: drop whatever it held before.
        try await connection.execute("SELECT pg_advisory_unlock_all()", name: "claims.unlock_all")
        var token: Int64
        repeat {
            token = Int64.random(in: 1...Int64.max)
        } while try await !connection.query("SELECT pg_try_advisory_lock(\(token))", name: "claims.lock")[0].decode(Bool.self, at: 0)
        state.withLock { $0.token = token }
        logger.debug("claims are tied to this process's database session", metadata: ["claims.holder": "\(token)"])
        while true {
            try await Task.sleep(for: configuration.checkInterval)
            try await connection.execute("SELECT 1", name: "claims.liveness")
        }
    }

    /// Forgets the token and wakes the rounds waiting for its loss.
    private func release() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.token = nil
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Runs `body` while `token` is held: returns its result, or `nil` when the token was lost first (`body` is then
    /// cancelled, and this returns once it has stopped).
    func whileHeld<T: Sendable>(_ token: Int64, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                await self.waitUntilLost(token)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            if first == nil {
                logger.info("the claim holder's session ended: the round's claims are left to other workers")
            }
            return first
        }
    }

    /// Returns once `token` is no longer held, or when the task is cancelled.
    private func waitUntilLost(_ token: Int64) async {
        let id = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.token != token || state.cancelled.contains(id) { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.cancelled.insert(id)
                return state.waiters.removeValue(forKey: id)
            }
            waiter?.resume()
        }
        _ = state.withLock { $0.cancelled.remove(id) }
    }
}
