import Domain
import Foundation
import PQ


/// An event to append.
public struct NewEvent: Sendable, Hashable {
    /// What the event is about, e.g. `contact:user-42`.
    public var stream: String
    /// `<source>.<subject>.<verb>`, e.g. `segment.identify`.
    public var type: EventType
    /// Where it came from.
    public var source: EventSource
    /// Unique per source; an event whose key is already stored is not stored again.
    public var idempotencyKey: String
    /// When it happened, as the sender says (after clock-skew correction where that applies).
    public var occurredAt: Date
    /// The payload as it arrived, as JSON text.
    public var payload: PQJSONB
    /// Context such as the write key id, the request id and the mapping version, as a JSON object.
    public var metadata: PQJSONB

    /// Creates an event to append; `metadata` defaults to an empty object.
    public init(
        stream: String, type: EventType, source: EventSource, idempotencyKey: String, occurredAt: Date, payload: PQJSONB,
        metadata: PQJSONB = PQJSONB("{}")
    ) {
        self.stream = stream
        self.type = type
        self.source = source
        self.idempotencyKey = idempotencyKey
        self.occurredAt = occurredAt
        self.payload = payload
        self.metadata = metadata
    }
}

/// What happened to one event of an append.
public enum AppendOutcome: Sendable, Hashable {
    /// Stored at this position.
    case appended(position: Int64)
    /// Not stored: an event with the same source and idempotency key already is, at this position.
    case duplicate(existingPosition: Int64)

    /// The position of the stored event (new or existing).
    public var position: Int64 {
        switch self {
        case .appended(let position), .duplicate(let position): return position
        }
    }

    /// Whether the event was a duplicate.
    public var isDuplicate: Bool {
        if case .duplicate = self { return true }
        return false
    }
}

/// A point in the log's read order: the appending transaction and the position within it.
///
/// Readers order events by `(transactionID, position)`, not by position alone, because positions are taken before
/// their transactions commit and can become visible out of order.
public struct LogCursor: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The appending transaction's id (`xid8`).
    public var transactionID: UInt64
    /// The event's position.
    public var position: Int64

    /// Creates a cursor at an event of the log (or between events: a transaction id and a position below it).
    public init(transactionID: UInt64, position: Int64) {
        self.transactionID = transactionID
        self.position = position
    }

    /// Before the first event.
    public static let origin = LogCursor(transactionID: 0, position: 0)

    public static func < (lhs: LogCursor, rhs: LogCursor) -> Bool {
        (lhs.transactionID, lhs.position) < (rhs.transactionID, rhs.position)
    }

    public var description: String { "\(transactionID)/\(position)" }
}

/// An event as stored in the log.
public struct RecordedEvent: Sendable, Hashable {
    /// The global position.
    public var position: Int64
    /// The appending transaction's id.
    public var transactionID: UInt64
    /// What the event is about, e.g. `contact:user-42`.
    public var stream: String
    /// `<source>.<subject>.<verb>`, e.g. `segment.identify`.
    public var type: EventType
    /// Where it came from.
    public var source: EventSource
    /// Unique per source.
    public var idempotencyKey: String
    /// When it happened, as the sender says.
    public var occurredAt: Date
    /// When the log stored it (the appending transaction's start).
    public var recordedAt: Date
    /// The payload as stored (`jsonb`).
    public var payload: PQJSONB
    /// The metadata object as stored (`jsonb`).
    public var metadata: PQJSONB

    /// The event's place in the read order.
    public var cursor: LogCursor { LogCursor(transactionID: transactionID, position: position) }

    /// The columns `init(row:)` decodes, in order.
    static let columns = "position, transaction_id, stream, type, source, idempotency_key, occurred_at, recorded_at, payload, metadata"
    /// The number of columns in `columns`.
    static let columnCount = 10

    init(row: PQRow) throws {
        let (position, transactionID, stream, type, source, key, occurredAt, recordedAt, payload, metadata) = try row.decode(
            (Int64, UInt64, String, String, String, String, Date, Date, PQJSONB, PQJSONB).self)
        self.position = position
        self.transactionID = transactionID
        self.stream = stream
        self.type = EventType(rawValue: type)
        self.source = EventSource(rawValue: source)
        self.idempotencyKey = key
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.payload = payload
        self.metadata = metadata
    }
}

/// A page of the log in read order.
public struct LogPage: Sendable {
    /// The events, in `(transactionID, position)` order.
    public var events: [RecordedEvent]
    /// Whether committed or in-flight events exist beyond the safe horizon: a running transaction older than them holds
    /// the reader back. Readers should look again soon rather than wait for a notification.
    public var isHeldBack: Bool
    /// Where to continue reading: after the last event, or the cursor the read started from when empty. (A filtered read,
    /// `read(matching:after:limit:taking:)`, may move it further: past the events it looked at and did not take.)
    public var nextCursor: LogCursor

    /// Creates a page, e.g. for tests of code that consumes pages.
    public init(events: [RecordedEvent], isHeldBack: Bool, nextCursor: LogCursor) {
        self.events = events
        self.isHeldBack = isHeldBack
        self.nextCursor = nextCursor
    }
}
