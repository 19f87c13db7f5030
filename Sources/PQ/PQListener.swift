import CLibPQ
import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Listens for PostgreSQL notifications (`LISTEN`/`NOTIFY`) on a dedicated connection and thread, and broadcasts them.
///
/// The listener reconnects after a lost connection and then emits `.connected`: notifications sent while it was
/// disconnected are lost, so consumers treat `.connected` as "check for new work". Use notifications as wake-ups,
/// never as the only source of truth.
public final class PQListener: Sendable, Service {
    /// A notification received on one of the channels.
    public struct Notification: Sendable, Equatable {
        /// The channel it was sent on.
        public var channel: String
        /// The payload given to `NOTIFY` or `pg_notify`.
        public var payload: String
        /// The process id of the notifying backend.
        public var processID: Int32
    }

    /// What the listener reports.
    public enum Event: Sendable, Equatable {
        /// The listener (re)connected and is listening; anything sent while it was not may have been missed.
        case connected
        /// A notification arrived.
        case notification(Notification)
    }

    private let connectionString: String
    private let channels: [String]
    private let logger: Logger
    private let reconnectDelay: Duration
    private let state = NIOLockedValueBox(State())

    private struct State {
        var subscribers: [UInt64: AsyncStream<Event>.Continuation] = [:]
        var nextID: UInt64 = 0
        var stopRequested = false
        var isListening = false
    }

    /// Creates a listener; it connects when `run()` starts.
    ///
    /// - Parameters:
    ///   - connectionString: a libpq connection string or URI.
    ///   - channels: the channels to `LISTEN` on.
    ///   - logger: where connection losses and reconnections are logged.
    ///   - reconnectDelay: the pause between reconnection attempts. Defaults to one second.
    public init(connectionString: String, channels: [String], logger: Logger, reconnectDelay: Duration = .seconds(1)) {
        self.connectionString = connectionString
        self.channels = channels
        self.logger = logger
        self.reconnectDelay = reconnectDelay
    }

    /// Whether the listener is connected and listening now.
    public var isListening: Bool { state.withLockedValue { $0.isListening } }

    /// A new stream of the listener's events, from now on. Streams end when the listener stops.
    public func events() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1024))
        let (id, listening) = state.withLockedValue { state -> (UInt64, Bool) in
            state.nextID += 1
            state.subscribers[state.nextID] = continuation
            return (state.nextID, state.isListening)
        }
        if listening { continuation.yield(.connected) }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Listens until graceful shutdown or cancellation.
    public func run() async throws {
        state.withLockedValue { $0.stopRequested = false }
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    listenLoop()
                    continuation.resume()
                }
                thread.name = "hubsignal-pq-listener"
                thread.start()
            }
        } onCancelOrGracefulShutdown: {
            self.state.withLockedValue { $0.stopRequested = true }
        }
        let subscribers = state.withLockedValue { state -> [AsyncStream<Event>.Continuation] in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.finish() }
    }

    private var stopRequested: Bool { state.withLockedValue { $0.stopRequested } }

    private func broadcast(_ event: Event) {
        let subscribers = state.withLockedValue { Array($0.subscribers.values) }
        for subscriber in subscribers { subscriber.yield(event) }
    }

    private func setListening(_ listening: Bool) {
        state.withLockedValue { $0.isListening = listening }
    }

    /// The blocking loop on the listener's own thread.
    private func listenLoop() {
        var connection: OpaquePointer?
        defer {
            if let connection { PQfinish(connection) }
            setListening(false)
        }
        while !stopRequested {
            if connection == nil {
                do {
                    var configuration = PQClient.Configuration(connectionString: connectionString)
                    configuration.applicationName = "hubsignal-listener"
                    // The keepalive and TCP defaults notice a dead server while the listener waits; LISTEN needs no
                    // statement timeout of ours.
                    configuration.statementTimeout = nil
                    let opened = try openLibPQConnection(configuration)
                    for channel in channels {
                        guard let result = PQexec(opened, "LISTEN " + PQQuery.quoteIdentifier(channel)) else {
                            throw PQError(code: .connectionLost, message: PQConnection.lastErrorMessage(opened))
                        }
                        let ok = PQresultStatus(result) == PGRES_COMMAND_OK
                        PQclear(result)
                        if !ok { throw PQError(code: .server, message: PQConnection.lastErrorMessage(opened)) }
                    }
                    connection = opened
                    setListening(true)
                    logger.debug("listening for notifications", metadata: ["pq.channels": "\(channels.joined(separator: ","))"])
                    broadcast(.connected)
                } catch {
                    logger.info("notification listener could not connect; retrying", metadata: ["error": "\(error)"])
                    sleepUnlessStopped(reconnectDelay)
                    continue
                }
            }
            guard let current = connection else { continue }
            var descriptor = pollfd(fd: PQsocket(current), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 200)
            if ready > 0 {
                if PQconsumeInput(current) == 0 || PQstatus(current) != CONNECTION_OK {
                    logger.info("notification listener lost its connection; reconnecting")
                    PQfinish(current)
                    connection = nil
                    setListening(false)
                    continue
                }
                while let notification = PQnotifies(current) {
                    let value = notification.pointee
                    broadcast(
                        .notification(
                            Notification(
                                channel: String(cString: value.relname), payload: String(cString: value.extra),
                                processID: value.be_pid)))
                    PQfreemem(notification)
                }
            } else if ready < 0, errno != EINTR {
                PQfinish(current)
                connection = nil
                setListening(false)
            }
        }
    }

    private func sleepUnlessStopped(_ duration: Duration) {
        let deadline = ContinuousClock.now + duration
        while !stopRequested, ContinuousClock.now < deadline {
            usleep(50_000)
        }
    }
}
