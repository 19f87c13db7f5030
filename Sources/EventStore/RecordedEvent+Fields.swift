import Domain
import Foundation
import PQ

extension RecordedEvent {
    /// An event made from its fields, as if read from the log: for tests of code that consumes events without a
    /// database (`@testable import EventStore`).
    init(
        position: Int64, transactionID: UInt64, stream: String, type: EventType, source: EventSource, idempotencyKey: String,
        occurredAt: Date, recordedAt: Date, payload: PQJSONB, metadata: PQJSONB
    ) {
        self.position = position
        self.transactionID = transactionID
        self.stream = stream
        self.type = type
        self.source = source
        self.idempotencyKey = idempotencyKey
        self.occurredAt = occurredAt
        self.recordedAt = recordedAt
        self.payload = payload
        self.metadata = metadata
    }
}
