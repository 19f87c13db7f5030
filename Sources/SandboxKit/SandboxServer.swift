import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Runs a sandbox's router as an HTTP/1.1 server on a host and port (port 0 picks a free one).
///
/// Use ``start()`` / ``stop()`` from tests (the server runs in a background task), or ``run(onRunning:)`` from a
/// command line tool (until the task is cancelled or the process gets SIGINT/SIGTERM). The server's own log stays at
/// `warning` by default and never contains request headers or bodies.
public final class SandboxServer: Sendable {
    /// Errors of ``start()``.
    public enum StartError: Error, CustomStringConvertible {
        /// ``start()`` was called while the server is already running.
        case alreadyRunning
        /// The server stopped before it was listening (e.g. the port is taken); carries the underlying error.
        case notListening((any Error)?)

        /// A short explanation for logs and test failures.
        public var description: String {
            switch self {
            case .alreadyRunning: "the sandbox server is already running"
            case .notListening(let error): "the sandbox server did not start listening" + (error.map { ": \($0)" } ?? "")
            }
        }
    }

    private struct Running {
        var task: Task<Void, any Error>
        var group: ServiceGroup
        var port: Int
    }

    private let makeApplication: @Sendable (_ onRunning: @escaping @Sendable (Int) async -> Void) -> any Service
    private let logger: Logger
    private let running = Mutex<Running?>(nil)

    /// The host the server binds to.
    public let host: String
    /// The port requested (0: any free port).
    public let requestedPort: Int

    /// A server for `router`, listening on `host`:`port` once started.
    public init(
        router: Router<SandboxRequestContext>, host: String = "127.0.0.1", port: Int = 0, name: String = "sandbox",
        logLevel: Logger.Level = .warning
    ) {
        var configuredLogger = Logger(label: "hubsignal.\(name)")
        configuredLogger.logLevel = logLevel
        let logger = configuredLogger
        self.logger = logger
        self.host = host
        self.requestedPort = port
        let responder = router.buildResponder()
        self.makeApplication = { onRunning in
            Application(
                responder: responder,
                configuration: .init(address: .hostname(host, port: port), serverName: nil),
                onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
                logger: logger)
        }
    }

    /// The bound port while running, else `nil`.
    public var port: Int? {
        running.withLock { $0?.port }
    }

    /// Starts the server in a background task and returns the bound port once it is listening.
    @discardableResult
    public func start() async throws -> Int {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = makeApplication { port in continuation.yield(port) }
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
        let task = Task {
            defer { continuation.finish() }
            try await group.run()
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            let result = await task.result
            if case .failure(let error) = result { throw StartError.notListening(error) }
            throw StartError.notListening(nil)
        }
        let stored = running.withLock { state -> Bool in
            guard state == nil else { return false }
            state = Running(task: task, group: group, port: port)
            return true
        }
        guard stored else {
            await group.triggerGracefulShutdown()
            task.cancel()
            throw StartError.alreadyRunning
        }
        return port
    }

    /// Stops a server started with ``start()``: lets requests in flight finish (for up to `grace`), then closes
    /// everything. Does nothing when the server is not running.
    public func stop(grace: Duration = .seconds(2)) async {
        guard let current = running.withLock({ state -> Running? in
            defer { state = nil }
            return state
        }) else { return }
        await current.group.triggerGracefulShutdown()
        let task = current.task
        let watchdog = Task {
            try await Task.sleep(for: grace)
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
    }

    /// Runs the server in the current task until it is cancelled or the process receives one of
    /// `gracefulShutdownSignals`; `onRunning` gets the bound port once listening. Either way the server shuts down
    /// gracefully: it stops listening, lets requests in flight finish (for up to `grace`), then closes connections.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint], grace: Duration = .seconds(2),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let application = makeApplication(onRunning)
        let group = ServiceGroup(
            services: [application], gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        // The group runs in its own task so that cancelling the caller shuts it down gracefully instead of
        // cancelling it outright.
        let task = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            Task {
                await group.triggerGracefulShutdown()
                try await Task.sleep(for: grace)
                task.cancel()
            }
        }
    }
}
