import Foundation
import Synchronization

/// Thread-safe log of the requests a sandbox received, in order of arrival.
public final class RequestLog: Sendable {
    private struct State {
        var records: [RecordedRequest] = []
        var nextSequence = 0
    }

    private let state = Mutex(State())

    /// The most requests kept (the oldest are dropped first); `nil` keeps every request.
    public let limit: Int?

    /// Creates an empty log keeping at most `limit` requests (all when `nil`, as tests want; a long-running sandbox
    /// should set one).
    public init(limit: Int? = nil) {
        precondition(limit.map { $0 > 0 } ?? true, "limit must be positive")
        self.limit = limit
    }

    /// Every recorded request, oldest first.
    public var all: [RecordedRequest] {
        state.withLock { $0.records }
    }

    /// How many requests are recorded.
    public var count: Int {
        state.withLock { $0.records.count }
    }

    /// The requests with this method (case-insensitive) and exactly this path (no query), oldest first.
    public func matching(method: String, path: String) -> [RecordedRequest] {
        let method = method.uppercased()
        return all.filter { $0.method == method && $0.path == path }
    }

    /// The requests whose path starts with `prefix`, oldest first.
    public func matching(pathPrefix prefix: String) -> [RecordedRequest] {
        all.filter { $0.path.hasPrefix(prefix) }
    }

    /// Forgets every recorded request.
    public func clear() {
        state.withLock { $0.records.removeAll() }
    }

    /// Appends a request (its status not yet known) and returns its sequence number.
    func begin(method: String, path: String, query: String, headers: [String: String], body: Data) -> Int {
        state.withLock { state in
            let sequence = state.nextSequence
            state.nextSequence += 1
            state.records.append(
                RecordedRequest(
                    sequence: sequence, method: method, path: path, query: query, headers: headers, body: body,
                    receivedAt: Date()))
            if let limit, state.records.count > limit {
                state.records.removeFirst(state.records.count - limit)
            }
            return sequence
        }
    }

    /// Sets the status of the request with this sequence number, if it is still in the log.
    func complete(sequence: Int, status: Int) {
        state.withLock { state in
            if let index = state.records.lastIndex(where: { $0.sequence == sequence }) {
                state.records[index].status = status
            }
        }
    }
}
