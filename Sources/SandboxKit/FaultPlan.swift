import Foundation
import Synchronization

/// Thread-safe list of faults to inject into the next matching requests, in the order they were added.
///
/// Each fault fires for `times` matching requests, then is gone. A request matches when its path starts with the
/// fault's `pathPrefix` (or always, without one). ``FaultMiddleware`` applies them.
public final class FaultPlan: Sendable {
    private struct Entry {
        var fault: SandboxFault
        var remaining: Int
        var pathPrefix: String?
    }

    private struct State {
        var entries: [Entry] = []
        var injectedCount = 0
        var releaseGeneration = 0
    }

    private let state = Mutex(State())

    /// Creates an empty plan.
    public init() {}

    /// Adds a fault for the next `times` requests whose path starts with `pathPrefix` (any path when `nil`).
    public func inject(_ fault: SandboxFault, times: Int = 1, pathPrefix: String? = nil) {
        precondition(times > 0, "a fault must fire at least once")
        state.withLock { $0.entries.append(Entry(fault: fault, remaining: times, pathPrefix: pathPrefix)) }
    }

    /// Removes every fault not yet fired.
    public func clear() {
        state.withLock { $0.entries.removeAll() }
    }

    /// How many faults are still to fire, counting each remaining time.
    public var pendingCount: Int {
        state.withLock { $0.entries.reduce(0) { $0 + $1.remaining } }
    }

    /// How many faults have fired so far.
    public var injectedCount: Int {
        state.withLock { $0.injectedCount }
    }

    /// Ends the wait of every request held by a ``SandboxFault/timeout(_:)`` or ``SandboxFault/latency(_:)`` fault now
    /// (used when the server stops).
    public func releaseHeldRequests() {
        state.withLock { $0.releaseGeneration += 1 }
    }

    /// Takes the first fault matching `path`, counting it as fired.
    func take(path: String) -> SandboxFault? {
        state.withLock { state in
            guard let index = state.entries.firstIndex(where: { entry in entry.pathPrefix.map { path.hasPrefix($0) } ?? true })
            else { return nil }
            let fault = state.entries[index].fault
            state.entries[index].remaining -= 1
            if state.entries[index].remaining == 0 {
                state.entries.remove(at: index)
            }
            state.injectedCount += 1
            return fault
        }
    }

    /// Waits `duration`, returning early when the task is cancelled or ``releaseHeldRequests()`` is called.
    func hold(for duration: Duration) async {
        let generation = state.withLock { $0.releaseGeneration }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: duration)
        while clock.now < deadline, !Task.isCancelled, state.withLock({ $0.releaseGeneration }) == generation {
            let slice = min(deadline - clock.now, .milliseconds(20))
            try? await Task.sleep(for: slice)
        }
    }
}
