import CLibPQ
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// A bounded pool of PostgreSQL connections over libpq, and the entry point for running statements.
///
/// Connections open on demand up to `maximumConnections`; a caller that finds none free waits up to
/// `connectionWaitTimeout` and then gets the retryable `PQError.Code.poolTimeout`. A connection found broken is
/// replaced on the next request. libpq calls run on the client's own threads (`maximumConnections` of them), never on
/// Swift's cooperative pool. Every connection has a `statementTimeout`, a `tcpUserTimeout` and TCP keepalives unless the
/// connection string sets its own, so a server or network that stops answering fails the statement with a retryable
/// error (`statementTimeout`, `connectionLost`) instead of holding the connection.
///
/// > Warning: call `shutdown()` (or run the client as a `Service`, whose `run()` shuts it down on graceful shutdown)
/// > before the process exits, so that connections are closed and the threads stop.
public final class PQClient: Sendable, Service {
    /// How the client connects and how large its pool is.
    public struct Configuration: Sendable {
        /// A libpq connection string or URI (`postgresql://user@host:5432/db?sslmode=verify-full`, or
        /// `host=… dbname=…`). Every libpq feature applies: `PG*` environment variables, `.pgpass`, several hosts,
        /// `target_session_attrs`, TLS modes. An empty string uses the `PG*` environment variables alone.
        public var connectionString: String
        /// The most connections open at once. Defaults to `10`.
        public var maximumConnections: Int = 10
        /// How long a caller waits for a free connection before `poolTimeout`. Defaults to `10` seconds.
        public var connectionWaitTimeout: Duration = .seconds(10)
        /// The connect timeout given to libpq unless the connection string or `PGCONNECT_TIMEOUT` sets one.
        /// Defaults to `10` seconds.
        public var connectTimeout: Duration? = .seconds(10)
        /// Prepared statements kept per connection (by SQL text); `0` disables preparing, e.g. behind a
        /// transaction-mode pooler. Defaults to `256`.
        public var statementCacheCapacity: Int = 256
        /// `application_name` reported to the server unless the connection string sets one. Defaults to `hubsignal`.
        public var applicationName: String = "hubsignal"
        /// The session's `statement_timeout`: a statement running longer is canceled by the server and fails with the
        /// retryable `PQError.Code.statementTimeout`. Applied unless the connection string (`options=-c
        /// statement_timeout=…`), `PGOPTIONS`, or `ALTER ROLE`/`ALTER DATABASE … SET statement_timeout` sets one (a
        /// server-wide `postgresql.conf` value is replaced). Longer work raises it for a transaction
        /// (`PQTransactionOptions.statementTimeout`) or a scope (`PQClient.withStatementTimeout(_:_:)`); `nil` leaves
        /// the server's setting. Defaults to `30` seconds.
        public var statementTimeout: Duration? = .seconds(30)
        /// libpq's `tcp_user_timeout`: how long sent data may stay unacknowledged before the connection is dropped (a
        /// retryable `connectionLost`). Unless the connection string sets it; `nil` leaves the system's. Defaults to
        /// `30` seconds.
        public var tcpUserTimeout: Duration? = .seconds(30)
        /// TCP keepalive probes, which notice a server or network gone silent while the connection waits. Unless the
        /// connection string sets `keepalives*`; `nil` leaves libpq's and the system's defaults. Defaults to
        /// `Keepalive()`: probes after `15` seconds idle, every `5` seconds, the connection dropped after `3` unanswered.
        public var keepalive: Keepalive? = Keepalive()

        /// TCP keepalive settings (libpq's `keepalives_idle`, `keepalives_interval`, `keepalives_count`).
        public struct Keepalive: Sendable, Hashable {
            /// Idle time before the first probe. Defaults to `15` seconds.
            public var idle: Duration = .seconds(15)
            /// Time between probes. Defaults to `5` seconds.
            public var interval: Duration = .seconds(5)
            /// Unanswered probes before the connection is considered dead. Defaults to `3`.
            public var count: Int = 3

            /// Keepalive settings; each default is the one its property names.
            public init(idle: Duration = .seconds(15), interval: Duration = .seconds(5), count: Int = 3) {
                self.idle = idle
                self.interval = interval
                self.count = count
            }
        }

        /// A configuration with the defaults for `connectionString`.
        public init(connectionString: String) {
            self.connectionString = connectionString
        }
    }

    /// The configuration the client was created with.
    public let configuration: Configuration
    let logger: Logger
    let threadPool: NIOThreadPool
    private let state = NIOLockedValueBox(PoolState())
    private let metrics: PoolMetrics

    /// Creates a client; no connection is opened until the first statement.
    public init(configuration: Configuration, logger: Logger, metricsFactory: (any MetricsFactory)? = nil) {
        precondition(configuration.maximumConnections > 0, "maximumConnections must be at least 1")
        self.configuration = configuration
        self.logger = logger
        self.threadPool = NIOThreadPool(numberOfThreads: configuration.maximumConnections)
        self.threadPool.start()
        self.metrics = PoolMetrics(factory: metricsFactory ?? MetricsSystem.factory)
    }

    // MARK: - Running statements

    /// Runs a statement on a pooled connection and returns its rows.
    @discardableResult
    public func query(_ query: PQQuery, name: String? = nil) async throws -> PQRows {
        try await withConnection { try await $0.query(query, name: name) }
    }

    /// Runs a statement on a pooled connection and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PQQuery, name: String? = nil) async throws -> Int {
        try await withConnection { try await $0.execute(query, name: name) }
    }

    /// Lends a connection to `body` and takes it back afterwards, whatever happens.
    ///
    /// A transaction left open by `body` is rolled back before the connection is reused. Within
    /// `PQClient.withStatementTimeout(_:_:)`, the connection has that `statement_timeout` while `body` runs.
    @discardableResult
    public func withConnection<T>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        do {
            let result: T
            if let timeout = Self.statementTimeoutOverride {
                result = try await connection.withStatementTimeout(timeout, body)
            } else {
                result = try await body(connection)
            }
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on a pooled connection: committed when `body` returns, rolled back when it
    /// throws.
    @discardableResult
    public func withTransaction<T>(
        isolation: isolated (any Actor)? = #isolation, _ options: PQTransactionOptions = .init(),
        _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction(options, body)
        }
    }

    // MARK: - Pool

    /// Counts of the pool's connections.
    public struct Statistics: Sendable, Equatable {
        /// Connections open or being opened.
        public var open: Int
        /// Open connections waiting in the pool.
        public var idle: Int
        /// Callers waiting for a connection.
        public var waiting: Int
    }

    /// The pool's current counts.
    public var statistics: Statistics {
        state.withLockedValue { Statistics(open: $0.openCount, idle: $0.idle.count, waiting: $0.waiters.count) }
    }

    struct PoolState {
        var idle: [PQConnection] = []
        var openCount = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isClosed = false
    }

    struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<PQConnection?, any Error>
        let timer: Task<Void, Never>
    }

    private enum Step {
        case reuse(PQConnection)
        case create
        case wait
        case closed
    }

    func acquire() async throws -> PQConnection {
        let deadline = ContinuousClock.now + configuration.connectionWaitTimeout
        let maximum = configuration.maximumConnections
        while true {
            try Task.checkCancellation()
            let step = state.withLockedValue { state -> Step in
                if state.isClosed { return .closed }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.openCount < maximum {
                    state.openCount += 1
                    return .create
                }
                return .wait
            }
            switch step {
            case .closed:
                throw PQError(code: .poolClosed, message: "the PostgreSQL client has been shut down")
            case .reuse(let connection):
                if connection.isUsableWhenIdle() { return connection }
                logger.debug("discarding a pooled connection that the server closed")
                retire(connection)
            case .create:
                do {
                    return try await connect()
                } catch {
                    let waiter = state.withLockedValue { state -> Waiter? in
                        state.openCount -= 1
                        return state.waiters.isEmpty ? nil : state.waiters.removeFirst()
                    }
                    waiter?.timer.cancel()
                    waiter?.continuation.resume(returning: nil)
                    throw error
                }
            case .wait:
                if let connection = try await waitForConnection(until: deadline) { return connection }
            }
        }
    }

    private func connect() async throws -> PQConnection {
        let configuration = self.configuration
        let threadPool = self.threadPool
        let logger = self.logger
        do {
            let connection = try await threadPool.runIfActive {
                try PQConnection.connectBlocking(configuration: configuration, threadPool: threadPool, logger: logger)
            }
            metrics.connectionsOpened.increment()
            return connection
        } catch let error as PQError {
            metrics.connectionFailures.increment()
            throw error
        } catch {
            throw PQError(code: .poolClosed, message: "the client's thread pool is shut down", underlying: error)
        }
    }

    /// Waits for a released connection (or for capacity, signalled with `nil`) until `deadline`.
    private func waitForConnection(until deadline: ContinuousClock.Instant) async throws -> PQConnection? {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let timeout = configuration.connectionWaitTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PQConnection?, any Error>) in
                let timer = Task { [weak self] in
                    try? await Task.sleep(until: deadline)
                    guard !Task.isCancelled, let self, let waiter = self.removeWaiter(id) else { return }
                    self.metrics.waitTimeouts.increment()
                    waiter.continuation.resume(
                        throwing: PQError(
                            code: .poolTimeout,
                            message: "no PostgreSQL connection became free within \(timeout) "
                                + "(all \(self.configuration.maximumConnections) are in use)"))
                }
                let registered = state.withLockedValue { state -> Bool in
                    if state.isClosed { return false }
                    state.waiters.append(Waiter(id: id, continuation: continuation, timer: timer))
                    return true
                }
                if !registered {
                    timer.cancel()
                    continuation.resume(throwing: PQError(code: .poolClosed, message: "the PostgreSQL client has been shut down"))
                } else if Task.isCancelled, let waiter = removeWaiter(id) {
                    waiter.timer.cancel()
                    waiter.continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            if let waiter = removeWaiter(id) {
                waiter.timer.cancel()
                waiter.continuation.resume(throwing: CancellationError())
            }
        }
    }

    private func removeWaiter(_ id: UInt64) -> Waiter? {
        state.withLockedValue { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
    }

    /// Takes a connection back: reused when healthy (an open transaction is rolled back first), otherwise closed.
    func release(_ connection: PQConnection) async {
        var reusable = !connection.isBroken && !connection.wasCanceled
        if reusable {
            switch connection.transactionStatus {
            case .idle:
                break
            case .inTransaction, .failedTransaction:
                do {
                    try await connection.simpleQuery(unsafeSQL: "ROLLBACK")
                } catch {
                    reusable = false
                }
            case .active, .unknown:
                reusable = false
            }
        }
        enum Outcome {
            case pooled
            case handedOver(Waiter)
            case closed(Waiter?)
        }
        let outcome = state.withLockedValue { state -> Outcome in
            if !reusable || state.isClosed {
                state.openCount -= 1
                return .closed(state.waiters.isEmpty ? nil : state.waiters.removeFirst())
            }
            if !state.waiters.isEmpty { return .handedOver(state.waiters.removeFirst()) }
            state.idle.append(connection)
            return .pooled
        }
        switch outcome {
        case .pooled:
            break
        case .handedOver(let waiter):
            waiter.timer.cancel()
            waiter.continuation.resume(returning: connection)
        case .closed(let waiter):
            if !reusable { metrics.connectionsReplaced.increment() }
            connection.closeNow()
            waiter?.timer.cancel()
            waiter?.continuation.resume(returning: nil)
        }
    }

    private func retire(_ connection: PQConnection) {
        metrics.connectionsReplaced.increment()
        state.withLockedValue { $0.openCount -= 1 }
        connection.closeNow()
    }

    // MARK: - Lifecycle

    /// Runs until graceful shutdown (or cancellation), then closes every connection and stops the threads.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes idle connections, fails waiting callers with `poolClosed`, and stops the client's threads. Connections
    /// that are lent out are closed when they come back. Safe to call more than once.
    public func shutdown() async {
        let (idle, waiters, wasClosed) = state.withLockedValue { state in
            let taken = (state.idle, state.waiters, state.isClosed)
            state.isClosed = true
            state.openCount -= state.idle.count
            state.idle = []
            state.waiters = []
            return taken
        }
        if wasClosed { return }
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume(throwing: PQError(code: .poolClosed, message: "the PostgreSQL client has been shut down"))
        }
        for connection in idle { connection.closeNow() }
        try? await threadPool.shutdownGracefully()
    }
}

/// The pool's counters, created once per client.
struct PoolMetrics: Sendable {
    let connectionsOpened: Counter
    let connectionsReplaced: Counter
    let connectionFailures: Counter
    let waitTimeouts: Counter

    init(factory: any MetricsFactory) {
        connectionsOpened = Counter(label: "hubsignal_pq_connections_opened_total", dimensions: [], factory: factory)
        connectionsReplaced = Counter(label: "hubsignal_pq_connections_replaced_total", dimensions: [], factory: factory)
        connectionFailures = Counter(label: "hubsignal_pq_connect_failures_total", dimensions: [], factory: factory)
        waitTimeouts = Counter(label: "hubsignal_pq_pool_wait_timeouts_total", dimensions: [], factory: factory)
    }
}
