import Domain
import Foundation
import PQ

extension NewEvent {
    /// An event HubSignal writes itself: its type is the payload's, its source `hubsignal`.
    ///
    /// - Parameters:
    ///   - payload: the event's payload; the event's type is `Payload.eventType`.
    ///   - stream: what the event is about, e.g. `contact:user-42`.
    ///   - idempotencyKey: unique among HubSignal's own events; an event whose key is already stored is not stored again.
    ///   - occurredAt: when it happened. Defaults to now.
    ///   - metadata: members of the metadata object (e.g. the worker and the mapping version).
    public init<Payload: EventPayload>(
        _ payload: Payload, stream: String, idempotencyKey: String, occurredAt: Date = Date(), metadata: [String: JSONValue] = [:]
    ) throws {
        self.init(
            stream: stream, type: Payload.eventType, source: .hubsignal, idempotencyKey: idempotencyKey, occurredAt: occurredAt,
            payload: PQJSONB(bytes: try payload.serialized()), metadata: PQJSONB(bytes: try JSONValue.object(metadata).serialized()))
    }
}

extension RecordedEvent {
    /// The payload as `Payload`, or `nil` when the event is of another type.
    ///
    /// - Throws: when the payload does not parse or does not decode as `Payload`.
    public func payload<Payload: EventPayload>(as type: Payload.Type) throws -> Payload? {
        guard self.type == Payload.eventType else { return nil }
        return try Payload(json: JSONValue.parse(payload.bytes))
    }
}
