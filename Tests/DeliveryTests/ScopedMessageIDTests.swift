@testable import Delivery
import Domain
import EventStore
import Foundation
import Mapping
import PQ
import Testing
import TestSupport

/// Segment idempotency keys are scoped by write key (issue 18 §3); the ids HubSpot deduplicates behavioral events by
/// follow them, so that two sources' messages with the same `messageId` both reach HubSpot while an event keeps the id
/// it always had.
@Suite struct ScopedMessageIDTests {
    @Test func behavioralEventIDsComeFromTheScopedIdempotencyKey() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger)
            func track(key: String) -> NewEvent {
                NewEvent(
                    stream: "user:u", type: .track, source: .segment, idempotencyKey: key, occurredAt: Date(),
                    payload: PQJSONB(#"{"type": "track", "userId": "u", "event": "Signed Up", "messageId": "shared-1"}"#),
                    metadata: PQJSONB("{}"))
            }
            // Two sources' messages with the same messageId, and one stored before keys were scoped.
            try await store.append([track(key: "wk_aaaaaaaaaaaa:shared-1"), track(key: "wk_bbbbbbbbbbbb:shared-1"), track(key: "shared-1")])
            let events = try await store.events(inStream: "user:u")
            var mapping = Mapping.defaults
            mapping.behavioralEvents = BehavioralEventRules(enabled: true)
            let outbox = HubSpotEventOutbox(mapping: mapping, portalID: "123")
            let ids = events.compactMap { outbox.row(for: $0)?.uuid }
            #expect(ids.count == 3)
            #expect(Set(ids).count == 3, "each source's event has its own id: \(ids)")
            // An event stored before the scoping keeps the id derived from its messageId.
            #expect(ids[2] == HubSpotEventOutbox.uuid(from: "shared-1"))
        }
    }
}
