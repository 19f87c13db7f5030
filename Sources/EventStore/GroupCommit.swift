import Synchronization

/// Group commit: concurrent appends share one statement and one commit.
///
/// At most `maximumWriters` statements run at once; appends that arrive meanwhile queue, and the next free writer takes
/// every queued append (up to `maximumEvents` events and `maximumBytes` of payload) into its statement. Each caller
/// returns only after the statement holding its events has committed, with its own outcomes; the statement runs in a
/// task of its own, so a cancelled caller does not cancel the others'.
///
/// A caller's batch is never split (all or none) and is refused with `EventStoreError`, before anything is written,
/// when its payloads exceed `maximumBytes`. (`maximumEvents` only limits what a writer takes from the queue.)
final class GroupCommit: Sendable {
    /// What a queued append is told.
    enum Signal: Sendable {
        /// Its events were written by another caller's statement.
        case done(Result<[AppendOutcome], any Error>)
        /// A writer is free: this caller writes, taking the queue along.
        case write
    }

    struct Waiter {
        let id: UInt64
        let events: [NewEvent]
        let continuation: CheckedContinuation<Signal, any Error>
    }

    struct State {
        var queue: [Waiter] = []
        var writers = 0
        var nextID: UInt64 = 0
    }

    let maximumWriters: Int
    let maximumEvents: Int
    let maximumBytes: Int
    private let state = Mutex(State())

    init(maximumWriters: Int, maximumEvents: Int = 1_000, maximumBytes: Int = 8 << 20) {
        precondition(maximumWriters > 0 && maximumEvents > 0 && maximumBytes > 0)
        self.maximumWriters = maximumWriters
        self.maximumEvents = maximumEvents
        self.maximumBytes = maximumBytes
    }

    /// Appends waiting for a writer (for tests and diagnostics).
    var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Appends `events` through `write`, which writes a group of batches in one statement and returns one result per
    /// batch, in order.
    ///
    /// - Throws: `EventStoreError` without writing anything when the payloads of `events` exceed `maximumBytes`.
    func append(
        _ events: [NewEvent], write: @escaping @Sendable ([[NewEvent]]) async -> [Result<[AppendOutcome], any Error>]
    ) async throws -> [AppendOutcome] {
        let bytes = events.reduce(0) { $0 + $1.payload.bytes.count }
        guard bytes <= maximumBytes else {
            throw EventStoreError(
                "the batch holds \(bytes) bytes of payload; one append holds at most \(maximumBytes) bytes: append it in parts")
        }
        let id = state.withLock { state in
            defer { state.nextID &+= 1 }
            return state.nextID
        }
        let signal = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Signal, any Error>) in
                let writeNow = state.withLock { state -> Bool in
                    if state.writers < maximumWriters && state.queue.isEmpty {
                        state.writers += 1
                        return true
                    }
                    state.queue.append(Waiter(id: id, events: events, continuation: continuation))
                    return false
                }
                if writeNow { continuation.resume(returning: .write) }
            }
        } onCancel: {
            // Still queued: leave the queue. Once taken into a statement, the append completes.
            let removed = state.withLock { state -> Waiter? in
                guard let index = state.queue.firstIndex(where: { $0.id == id }) else { return nil }
                return state.queue.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
        switch signal {
        case .done(let result):
            return try result.get()
        case .write:
            return try await writeGroup(leading: events, write: write)
        }
    }

    /// Writes the caller's events and whatever is queued, hands the writer on, and returns the caller's outcomes.
    private func writeGroup(
        leading events: [NewEvent], write: @escaping @Sendable ([[NewEvent]]) async -> [Result<[AppendOutcome], any Error>]
    ) async throws -> [AppendOutcome] {
        let followers = state.withLock { state -> [Waiter] in
            var count = events.count
            var bytes = events.reduce(0) { $0 + $1.payload.bytes.count }
            var taken = 0
            for waiter in state.queue {
                let waiterBytes = waiter.events.reduce(0) { $0 + $1.payload.bytes.count }
                guard count + waiter.events.count <= maximumEvents, bytes + waiterBytes <= maximumBytes else { break }
                count += waiter.events.count
                bytes += waiterBytes
                taken += 1
            }
            defer { state.queue.removeFirst(taken) }
            return Array(state.queue.prefix(taken))
        }
        let group = [events] + followers.map(\.events)
        // Its own task: the caller's cancellation must not cancel a statement that carries other callers' events.
        let results = await Task { await write(group) }.value
        precondition(results.count == group.count, "a group write must return one result per batch")
        for (index, follower) in followers.enumerated() {
            follower.continuation.resume(returning: .done(results[index + 1]))
        }
        handOff()
        return try results[0].get()
    }

    /// Gives the writer to the first queued append, or frees it.
    private func handOff() {
        let next = state.withLock { state -> Waiter? in
            guard !state.queue.isEmpty else {
                state.writers -= 1
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume(returning: .write)
    }
}
