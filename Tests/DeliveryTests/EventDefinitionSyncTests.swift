import Delivery
import Domain
import EventStore
import Foundation
import HubSpotSandbox
import Mapping
import Testing

/// Behavioral events on a portal that has no definitions yet: the sync creates them (typed), extends them, records
/// them in the log first, reads them back from the log after a restart, and makes a refusal a dead letter with
/// HubSpot's reason. The sandbox refuses undefined events by default, as HubSpot does.
@Suite struct EventDefinitionSyncTests {
    static let mapping = """
        behavioral_events:
          enabled: true
        page_views:
          pages: per_name
        """

    /// The events the sync recorded about definitions, in log order.
    static func definitionEvents(_ store: EventStore) async throws -> [RecordedEvent] {
        try await store.events(inStream: "hubspot:event-definitions")
    }

    @Test func aBrandNewPortalGetsTrackAndPageEventsWithoutASingleRefusal() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)  // the outbox starts at the end of the log
            try await sync.identify("u1", #"{"email":"buyer@example.com"}"#)
            try await sync.track("u1", "Order Completed", #"{"total":19.5,"gift":true,"currency":"EUR","placed_at":"2026-12-06T10:00:00Z"}"#)
            try await sync.page("u1", "Pricing", #"{"url":"https://example.com/pricing","title":"Pricing"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            let events = sync.sandbox.behavioralEvents()
            #expect(Set(events.map(\.eventName)) == ["pe12345678_order_completed", "pe12345678_page_pricing"])
            let refused = sync.sandbox.requests.all.filter { ($0.status ?? 0) >= 400 }
            #expect(refused.isEmpty, "\(refused.map { "\($0.method) \($0.path) \($0.status ?? 0)" })")
            let definitions = Dictionary(uniqueKeysWithValues: sync.sandbox.eventDefinitions().map { ($0.name, $0) })
            let order = try #require(definitions["order_completed"])
            #expect(order.properties["total"]?.type == "number")
            #expect(order.properties["gift"]?.type == "enumeration")
            #expect(order.properties["currency"]?.type == "string")
            #expect(order.properties["placed_at"]?.type == "datetime")
            #expect(definitions["page_pricing"]?.propertyNames == ["name", "title", "url"])

            // Recorded before use: one definition event per event name, with the types sent.
            let recorded = try await Self.definitionEvents(sync.projection.store).compactMap {
                try $0.payload(as: HubSpotEventDefinitionRecorded.self)
            }
            #expect(Set(recorded.map(\.eventName)) == ["pe12345678_order_completed", "pe12345678_page_pricing"])
            #expect(recorded.first { $0.eventName == "pe12345678_order_completed" }?.properties["total"] == "number")
            #expect(recorded.allSatisfy { !$0.existed })

            // A property the definition lacks is added (and recorded) before the occurrence carrying it is sent.
            try await sync.track("u1", "Order Completed", #"{"total":5,"coupon":"WINTER"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.behavioralEvents().count == 3)
            #expect(sync.sandbox.eventDefinitions().first { $0.name == "order_completed" }?.properties["coupon"]?.type == "string")
            let added = try await Self.definitionEvents(sync.projection.store).compactMap { try $0.payload(as: HubSpotEventPropertyAdded.self) }
            #expect(added == [HubSpotEventPropertyAdded(eventName: "pe12345678_order_completed", property: "coupon", type: "string")])
            #expect(sync.sandbox.requests.all.allSatisfy { ($0.status ?? 0) < 400 })
        }
    }

    @Test func aRestartReadsTheDefinitionsFromTheLogNotFromHubSpot() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let first = sync.worker("first", mapping: mapping)
            try await sync.settle([first], mapping: mapping)
            try await sync.identify("u2", #"{"email":"again@example.com"}"#)
            try await sync.track("u2", "Signed Up", #"{"plan":"pro"}"#)
            try await sync.settle([first], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/v3/event-definitions").count == 2)  // list, create

            // A new worker (a restart): same event, same properties.
            sync.sandbox.requests.clear()
            let restarted = sync.worker("restarted", mapping: mapping)
            try await sync.track("u2", "Signed Up", #"{"plan":"team"}"#)
            try await sync.settle([restarted], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.behavioralEvents().count == 2)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/v3/event-definitions").isEmpty)
        }
    }

    @Test func aDefinitionMadeByHandIsFoundInHubSpotsListAndRecorded() async throws {
        try await SyncHarness.run { sync in
            sync.sandbox.defineBehavioralEvent(name: "signed_up", propertyNames: ["plan"])
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u3", #"{"email":"hand@example.com"}"#)
            try await sync.track("u3", "Signed Up", #"{"plan":"pro"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.behavioralEvents().count == 1)
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/events/v3/event-definitions").isEmpty)
            let recorded = try await Self.definitionEvents(sync.projection.store).compactMap {
                try $0.payload(as: HubSpotEventDefinitionRecorded.self)
            }
            #expect(recorded.map(\.existed) == [true])
            #expect(recorded.first?.properties == ["plan": "string"])
        }
    }

    @Test func aRefusedDefinitionIsADeadLetterWithHubSpotsReason() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            let missingScope = Data(
                #"{"status":"error","message":"This app hasn't been granted all required scopes to make this call.","category":"MISSING_SCOPES"}"#.utf8)
            sync.sandbox.faults.inject(.status(403, body: missingScope, headers: []), times: 1, pathPrefix: "/events/v3/event-definitions")
            try await sync.identify("u4", #"{"email":"refused@example.com"}"#)
            let position = try await sync.track("u4", "Order Completed", #"{"total":3}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            #expect(sync.sandbox.behavioralEvents().isEmpty)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/v3/send").isEmpty)
            let failed = try await sync.projection.count(
                """
                SELECT count(*) FROM events WHERE type = \(EventType.hubSpotEventFailed.rawValue)
                  AND (payload->>'position')::bigint = \(position)
                  AND payload->>'eventName' = 'pe12345678_order_completed'
                  AND payload->>'reason' LIKE '%granted all required scopes%'
                """)
            #expect(failed == 1)
            let lastError = try await sync.projection.count(
                "SELECT count(*) FROM deliveries WHERE object_kind = 'event' AND last_error LIKE '%required scopes%'")
            #expect(lastError == 1)
            let refusals = try await Self.definitionEvents(sync.projection.store).compactMap {
                try $0.payload(as: HubSpotEventDefinitionRefused.self)
            }
            #expect(refusals.map(\.eventName) == ["pe12345678_order_completed"])
        }
    }

    /// A timeline event id HubSpot already has is answered `409` (TL-26); the client takes it as written, so a retry
    /// after a lost answer is not a failure.
    @Test func aRepeatedTimelineEventIDIsSuccessForTheClient() async throws {
        try await SyncHarness.run { sync in
            sync.sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message"))
            let client = sync.hubSpotClient()
            for _ in 0..<2 {
                try await client.createTimelineEvent(
                    templateID: "1001298", email: "tl@example.com", objectID: nil, id: "msg-7", timestamp: "2026-12-06T10:00:00Z",
                    tokens: ["kind": "clicked"])
            }
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/integrators/timeline/v3/events").map(\.status) == [201, 409])
            #expect(sync.sandbox.timelineEvents().count == 1)
        }
    }
}
