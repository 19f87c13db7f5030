import Domain
import EventStore
import Foundation
import PQ

/// Builds Segment-like events for tests.
func makeEvent(key: String, user: String = "user-1", type: EventType = EventType(rawValue: "segment.track"), source: EventSource = .segment) -> NewEvent {
    NewEvent(
        stream: "contact:\(user)", type: type, source: source, idempotencyKey: key,
        occurredAt: Date(timeIntervalSince1970: 1_790_000_000),
        payload: PQJSONB(#"{"type": "track", "event": "Signed Up", "userId": "\#(user)", "messageId": "\#(key)"}"#),
        metadata: PQJSONB(#"{"writeKeyID": "wk_1"}"#))
}

/// Transaction ids and snapshots are cluster-wide: any transaction running anywhere on the server (other tests'
/// databases included) holds readers back for a moment. These helpers wait for that moment to pass.
extension EventStore {
    /// Reads everything after `cursor` until no running transaction holds the reader back (at most 60 seconds).
    func readSettled(after cursor: LogCursor, limit: Int = 1000) async throws -> LogPage {
        let deadline = ContinuousClock.now + .seconds(60)
        var cursor = cursor
        var events: [RecordedEvent] = []
        while true {
            let page = try await read(after: cursor, limit: limit)
            events += page.events
            cursor = page.nextCursor
            if (!page.isHeldBack && page.events.count < limit) || ContinuousClock.now > deadline {
                return LogPage(events: events, isHeldBack: page.isHeldBack, nextCursor: cursor)
            }
            if page.events.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
    }
}

extension Subscription {
    /// Processes the next batch, retrying while other transactions hold the reader back (at most 60 seconds).
    func processSettled() async throws -> BatchOutcome {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let outcome = try await processNextBatch()
            if outcome != .idle(isHeldBack: true) || ContinuousClock.now > deadline { return outcome }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
