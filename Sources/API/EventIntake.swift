import Domain
import EventStore
import Foundation
import Ingestion
import Metrics
import PQ

/// Stores what one request brought: its events, and the messages refused with their reasons, in one transaction.
/// A request is acknowledged only after this returns.
struct EventIntake: Sendable {
    let store: EventStore
    /// `hubsignal_ingest_rejected_messages_total`, by source.
    let rejectionCounters: [EventSource: Counter]

    init(store: EventStore, metricsFactory: (any MetricsFactory)? = nil) {
        self.store = store
        let factory = metricsFactory ?? MetricsSystem.factory
        var counters: [EventSource: Counter] = [:]
        for source in [EventSource.segment, .hubspot, .onesignal] {
            counters[source] = Counter(
                label: "hubsignal_ingest_rejected_messages_total", dimensions: [("source", source.rawValue)], factory: factory)
        }
        self.rejectionCounters = counters
    }

    /// Appends `events` and records `rejected` in `rejections`, atomically.
    @discardableResult
    func store(
        _ events: [NewEvent], rejected: [RejectedMessage], source: EventSource, endpoint: String, writeKeyID: String?,
        requestID: String
    ) async throws -> [AppendOutcome] {
        // Without rejections, one autocommitted statement (one round trip); with them, one transaction for both.
        if rejected.isEmpty { return try await store.append(events) }
        let outcomes = try await store.client.withTransaction { connection in
            let outcomes = events.isEmpty ? [] : try await store.append(events, on: connection)
            if !rejected.isEmpty {
                let indexes = rejected.map { Int32($0.index) }
                let messageIDs = PQNullableArray(rejected.map(\.messageId))
                let reasons = rejected.map(\.reason)
                let messages = rejected.map { PQJSONB(bytes: (try? $0.message.serialized()) ?? Array("null".utf8)) }
                try await connection.execute(
                    """
                    INSERT INTO rejections (source, endpoint, write_key_id, request_id, message_index, message_id, reason, message)
                    SELECT \(source.rawValue), \(endpoint), \(writeKeyID), \(requestID), message_index, message_id, reason, message
                    FROM unnest(\(indexes)::int[], \(messageIDs)::text[], \(reasons)::text[], \(messages)::jsonb[])
                         AS r(message_index, message_id, reason, message)
                    """, name: "rejections.insert")
            }
            return outcomes
        }
        if !rejected.isEmpty { rejectionCounters[source]?.increment(by: rejected.count) }
        return outcomes
    }

    /// The metadata stored with every event of a request (never a secret).
    static func metadata(_ fields: [String: String]) -> PQJSONB {
        let object = JSONValue.object(fields.mapValues { .string($0) })
        return PQJSONB(bytes: (try? object.serialized()) ?? Array("{}".utf8))
    }

    /// Turns validated webhook events into log events.
    static func newEvents(_ events: [InboundEvent], source: EventSource, metadata: PQJSONB) throws -> [NewEvent] {
        try events.map { event in
            NewEvent(
                stream: event.stream, type: event.type, source: source, idempotencyKey: event.idempotencyKey,
                occurredAt: event.occurredAt, payload: PQJSONB(bytes: try event.payload.serialized()), metadata: metadata)
        }
    }
}
