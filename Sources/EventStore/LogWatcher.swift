import Logging
import NIOConcurrencyHelpers
import PQ
import ServiceLifecycle

/// Wakes event-log readers when events are committed: `LISTEN hubsignal_events` (sent by a trigger on `events`), with
/// the reader's own polling interval as a fallback, so a lost notification only delays.
///
/// Readers take `generation` before they read and, when they found nothing, `wait(afterGeneration:timeout:)`: a
/// notification that arrived in between makes the wait return at once, so no wake-up is lost.
public final class LogWatcher: Sendable, Service {
    /// The channel the `events` trigger notifies.
    public static let channel = "hubsignal_events"

    private let listener: PQListener?
    private let state = NIOLockedValueBox(State())

    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        let timer: Task<Void, Never>
    }

    /// Creates a watcher that listens on its own connection.
    public init(connectionString: String, logger: Logger) {
        self.listener = PQListener(connectionString: connectionString, channels: [Self.channel], logger: logger)
    }

    /// Creates a watcher without a listener: readers fall back to polling (and `notify()` still wakes them).
    public init() {
        self.listener = nil
    }

    /// Increases with every wake-up.
    public var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Wakes every waiting reader now.
    public func notify() {
        let waiters = state.withLockedValue { state -> [Waiter] in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            waiter.timer.cancel()
            waiter.continuation.resume()
        }
    }

    /// Returns when `generation` has moved past `generation`, after `timeout`, or on cancellation.
    public func wait(afterGeneration generation: UInt64, timeout: Duration) async {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    self?.resumeWaiter(id)
                }
                let registered = state.withLockedValue { state -> Bool in
                    guard state.generation == generation, !Task.isCancelled else { return false }
                    state.waiters[id] = Waiter(continuation: continuation, timer: timer)
                    return true
                }
                if !registered {
                    timer.cancel()
                    continuation.resume()
                }
            }
        } onCancel: {
            resumeWaiter(id)
        }
    }

    private func resumeWaiter(_ id: UInt64) {
        guard let waiter = state.withLockedValue({ $0.waiters.removeValue(forKey: id) }) else { return }
        waiter.timer.cancel()
        waiter.continuation.resume()
    }

    /// Listens (when created with a connection string) until graceful shutdown or cancellation.
    public func run() async throws {
        guard let listener else {
            try? await gracefulShutdown()
            return
        }
        let events = listener.events()
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await listener.run() }
            for await _ in events.cancelOnGracefulShutdown() {
                notify()
            }
            group.cancelAll()
        }
        notify()
    }
}
