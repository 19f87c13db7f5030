import AsyncHTTPClient
import Delivery
import Domain
import Foundation
import HubSpotSandbox
import Ingestion
import Mapping
import PQ
import Testing
import TestSupport

/// Custom object records (`custom_objects:` in the mapping) end to end: Segment messages in the log, the
/// `hubspot-events` outbox, the sync worker, and the HubSpot sandbox's custom objects, search and associations.
@Suite(.timeLimit(.minutes(3)))
struct CustomObjectSyncTests {
    /// An `orders` rule on USD orders; `createIfMissing` and `associate` vary by test.
    static func mapping(createIfMissing: Bool = true, associate: String? = "{ to: contacts, label: buyer }") throws -> Mapping {
        try Mapping.parse(
            """
            custom_objects:
              - name: orders
                trigger:
                  type: track
                  event: Order Completed
                  conditions:
                    - { path: properties.currency, equals: USD }
                    - { path: properties.test_order, exists: false }
                object_type: p_orders
                properties:
                  properties.order_id: order_id
                  properties.total: { property: amount, type: number }
                  properties.status: status
                search_fields: [order_id]
                create_if_missing: \(createIfMissing)
            \(associate.map { "    associate: \($0)" } ?? "")
            """)
    }

    /// Defines the `p_orders` custom object in the sandbox.
    static func defineOrders(_ sync: SyncHarness) {
        sync.sandbox.defineCustomObject(
            name: "orders", fullyQualifiedName: "p_orders", objectTypeID: "2-7000001",
            properties: [.init(name: "order_id", type: .string), .init(name: "amount", type: .number), .init(name: "status", type: .string)])
    }

    /// Creates an association label from orders to contacts through the sandbox's API; returns its type id.
    static func createBuyerLabel(_ sync: SyncHarness) async throws -> Int {
        var request = HTTPClientRequest(url: sync.sandbox.baseURL + "/crm/v4/associations/p_orders/contacts/labels")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(sync.token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(Array(#"{"label":"buyer","name":"buyer","inverseLabel":"purchase"}"#.utf8))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        var body = try await response.body.collect(upTo: 1 << 20)
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        #expect(response.status.code == 200)
        let results = try #require((try JSONValue.parse(bytes))["results"])
        guard case .array(let types) = results, case .int(let typeID) = types.first?["typeId"] else {
            throw TestPostgresError("unexpected label answer: \(String(decoding: bytes, as: UTF8.self))")
        }
        return Int(typeID)
    }

    /// The payloads of the result events of a type, oldest first.
    static func payloads(_ sync: SyncHarness, _ type: String) async throws -> [JSONValue] {
        try await sync.projection.strings("SELECT payload::text FROM events WHERE type = \(type) ORDER BY position")
            .map { try JSONValue.parse(Array($0.utf8)) }
    }

    @Test func anOrderCreatesARecordAssociatedWithItsBuyerAndTheSameOrderIDUpdatesIt() async throws {
        try await SyncHarness.run { sync in
            Self.defineOrders(sync)
            let buyerTypeID = try await Self.createBuyerLabel(sync)
            let mapping = try Self.mapping()
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)  // the outbox starts at the end of the log
            try await sync.identify("u1", #"{"email":"buyer@example.com"}"#)
            try await sync.settle([worker], mapping: mapping)
            let contact = try #require(sync.sandbox.contact(email: "buyer@example.com"))

            let first = try await sync.track(
                "u1", "Order Completed", #"{"order_id":"o-1","total":"42.50","currency":"USD","status":"paid"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let orders = sync.sandbox.objects(ofType: "p_orders")
            #expect(orders.count == 1)
            let order = try #require(orders.first)
            #expect(order["order_id"] == "o-1")
            #expect(order["amount"] == "42.5")
            #expect(order["status"] == "paid")
            let associations = sync.sandbox.associations(from: "p_orders", id: order.id, to: "contacts")
            #expect(associations.map(\.toObjectID) == [contact.id])
            #expect(associations.first?.types.compactMap(\.label) == ["buyer"])
            #expect(associations.first?.types.contains { $0.typeID == buyerTypeID } == true)

            try await sync.track("u1", "Order Completed", #"{"order_id":"o-1","total":45,"currency":"USD","status":"refunded"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.objects(ofType: "p_orders").count == 1)
            let updated = try #require(sync.sandbox.object(ofType: "p_orders", id: order.id))
            #expect(updated["status"] == "refunded")
            #expect(updated["amount"] == "45")
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/p_orders").count == 1)
            #expect(sync.sandbox.requests.matching(method: "PATCH", path: "/crm/v3/objects/p_orders/\(order.id)").count == 1)
            // The label's type id was read once.
            #expect(sync.sandbox.requests.matching(method: "GET", path: "/crm/associations/v4/p_orders/contacts/labels").count == 1)

            let results = try await Self.payloads(sync, "hubsignal.hubspot.object_synced")
            #expect(results.map { $0["created"] } == [.bool(true), .bool(false)])
            #expect(results.map { $0["hubspotId"] } == [.string(order.id), .string(order.id)])
            #expect(results.first?["position"] == .int(first))
            #expect(results.first?["rule"] == .string("orders"))
            #expect(results.first?["objectType"] == .string("p_orders"))
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
            #expect(try await sync.projection.count("SELECT count(*) FROM deliveries WHERE object_kind = 'event'") == 0)
        }
    }

    @Test func withoutCreateIfMissingAMatchIsUpdatedAndNoMatchIsADeadLetter() async throws {
        try await SyncHarness.run { sync in
            Self.defineOrders(sync)
            let existing = try sync.sandbox.seedObject(ofType: "p_orders", properties: ["order_id": "o-2", "status": "open"])
            let mapping = try Self.mapping(createIfMissing: false, associate: nil)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u2", #"{"email":"shopper@example.com"}"#)
            try await sync.track("u2", "Order Completed", #"{"order_id":"o-2","currency":"USD","status":"shipped"}"#)
            let missing = try await sync.track("u2", "Order Completed", #"{"order_id":"o-3","currency":"USD","status":"paid"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            #expect(sync.sandbox.objects(ofType: "p_orders").count == 1)
            #expect(sync.sandbox.object(ofType: "p_orders", id: existing.id)?["status"] == "shipped")
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/p_orders").isEmpty)
            let dead = try await sync.projection.strings(
                "SELECT object_key || ' ' || last_error FROM deliveries WHERE object_kind = 'event' AND state = 'dead'")
            #expect(dead == ["\(missing):orders no record matched and create_if_missing is false"])
            let failures = try await Self.payloads(sync, "hubsignal.hubspot.event_failed")
            #expect(failures.count == 1)
            #expect(failures.first?["reason"] == .string("no record matched and create_if_missing is false"))
            #expect(failures.first?["position"] == .int(missing))
            #expect(failures.first?["rule"] == .string("orders"))
            #expect(try await Self.payloads(sync, "hubsignal.hubspot.object_synced").map { $0["hubspotId"] } == [.string(existing.id)])
            // The dead letter stays in the outbox; the update left it.
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 1)
        }
    }

    @Test func messagesWhoseConditionsDoNotHoldQueueNothing() async throws {
        try await SyncHarness.run { sync in
            Self.defineOrders(sync)
            let mapping = try Self.mapping(associate: nil)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u3", #"{"email":"euro@example.com"}"#)
            try await sync.track("u3", "Order Completed", #"{"order_id":"o-4","currency":"EUR"}"#)
            try await sync.track("u3", "Order Completed", #"{"order_id":"o-5","currency":"USD","test_order":true}"#)
            try await sync.track("u3", "Order Refunded", #"{"order_id":"o-6","currency":"USD"}"#)
            try await sync.page("u3", "Order Completed", #"{"order_id":"o-7","currency":"USD"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
            #expect(sync.sandbox.objects(ofType: "p_orders").isEmpty)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/crm/v3/objects/p_orders").isEmpty)

            // The same worker does queue a message that satisfies them.
            try await sync.track("u3", "Order Completed", #"{"order_id":"o-8","currency":"USD"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.objects(ofType: "p_orders").map { $0["order_id"] } == ["o-8"])
        }
    }

    @Test func aRecordAssociatedWithAContactWaitsUntilTheContactIsInHubSpot() async throws {
        try await SyncHarness.run { sync in
            Self.defineOrders(sync)
            let mapping = try Self.mapping(associate: "{ to: contacts }")
            // Retries seconds apart: a loaded machine must not use up the attempts while the test waits.
            let worker = sync.worker(mapping: mapping, retryDelay: .seconds(2))
            try await sync.settle([worker], mapping: mapping)
            // No email yet: the contact cannot be in HubSpot.
            try await sync.track("u4", "Order Completed", #"{"order_id":"o-9","currency":"USD","status":"paid"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.objects(ofType: "p_orders").isEmpty)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/crm/v3/objects/p_orders").isEmpty)
            let waiting = try await sync.projection.strings(
                "SELECT state || ' ' || last_error FROM deliveries WHERE object_kind = 'event'")
            #expect(waiting == ["queued the contact is not in HubSpot yet"])

            try await sync.identify("u4", #"{"email":"late@example.com"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let contact = try #require(sync.sandbox.contact(email: "late@example.com"))
            try await sync.client.execute("UPDATE deliveries SET next_attempt_at = now() WHERE object_kind = 'event'")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            let order = try #require(sync.sandbox.objects(ofType: "p_orders").first)
            #expect(order["order_id"] == "o-9")
            let associations = sync.sandbox.associations(from: "p_orders", id: order.id, to: "contacts")
            #expect(associations.map(\.toObjectID) == [contact.id])
            #expect(associations.first?.types.allSatisfy { $0.label == nil } == true)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
        }
    }

    @Test func oneTrackCanBeABehavioralEventAndRecordsOfSeveralRules() async throws {
        try await SyncHarness.run { sync in
            Self.defineOrders(sync)
            sync.sandbox.defineCustomObject(
                name: "purchases", fullyQualifiedName: "p_purchases", objectTypeID: "2-7000002",
                properties: [.init(name: "purchase_id", type: .string), .init(name: "state", type: .string)])
            let mapping = try Mapping.parse(
                """
                behavioral_events:
                  enabled: true
                custom_objects:
                  - name: orders
                    trigger: { type: track, event: Order Completed }
                    object_type: p_orders
                    properties: { properties.order_id: order_id, properties.status: status }
                    search_fields: [order_id]
                  - name: purchases
                    trigger: { type: track }
                    object_type: p_purchases
                    properties: { properties.order_id: purchase_id, properties.status: state }
                    search_fields: [purchase_id]
                """)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u5", #"{"email":"both@example.com"}"#)
            let position = try await sync.track("u5", "Order Completed", #"{"order_id":"o-10","status":"paid"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            #expect(sync.sandbox.behavioralEvents().map(\.eventName) == ["pe12345678_order_completed"])
            #expect(sync.sandbox.objects(ofType: "p_orders").map { $0["order_id"] } == ["o-10"])
            #expect(sync.sandbox.objects(ofType: "p_purchases").map { $0["state"] } == ["paid"])
            let results = try await Self.payloads(sync, "hubsignal.hubspot.object_synced")
            #expect(results.compactMap { $0["rule"]?.stringValue }.sorted() == ["orders", "purchases"])
            #expect(results.allSatisfy { $0["position"] == .int(position) })
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
        }
    }

    @Test func aRecordCanBeAssociatedWithTheMessagesCompanyOnceTheCompanyIsInHubSpot() async throws {
        try await SyncHarness.run { sync in
            sync.sandbox.defineCustomObject(
                name: "accounts", fullyQualifiedName: "p_accounts", objectTypeID: "2-7000003",
                properties: [.init(name: "account_id", type: .string), .init(name: "plan", type: .string)])
            let mapping = try Mapping.parse(
                """
                custom_objects:
                  - name: accounts
                    trigger: { type: group, conditions: [{ path: traits.plan, exists: true }] }
                    object_type: p_accounts
                    properties: { groupId: account_id, traits.plan: plan }
                    search_fields: [account_id]
                    associate: { to: companies }
                """)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u7", #"{"email":"owner@example.com"}"#)
            try await sync.group("u7", groupID: "acme", #"{"name":"Acme","plan":"enterprise"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let company = try #require(sync.sandbox.companies().first { $0["segment_group_id"] == "acme" })
            // The record may have waited for the company's first push: make it due and settle again.
            try await sync.client.execute("UPDATE deliveries SET next_attempt_at = now() WHERE object_kind = 'event'")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            let account = try #require(sync.sandbox.objects(ofType: "p_accounts").first)
            #expect(sync.sandbox.objects(ofType: "p_accounts").count == 1)
            #expect(account["account_id"] == "acme")
            #expect(account["plan"] == "enterprise")
            #expect(sync.sandbox.associations(from: "p_accounts", id: account.id, to: "companies").map(\.toObjectID) == [company.id])
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
        }
    }

    @Test func aSecondMessageMomentsLaterUpdatesTheRecordThoughHubSpotsSearchDoesNotShowItYet() async throws {
        try await SyncHarness.run(searchIndexingDelay: .seconds(60)) { sync in
            Self.defineOrders(sync)
            let mapping = try Self.mapping(associate: nil)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u8", #"{"email":"quick@example.com"}"#)
            try await sync.track("u8", "Order Completed", #"{"order_id":"o-11","currency":"USD","status":"paid"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let order = try #require(sync.sandbox.objects(ofType: "p_orders").first)
            try await sync.track("u8", "Order Completed", #"{"order_id":"o-11","currency":"USD","status":"shipped"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            #expect(sync.sandbox.objects(ofType: "p_orders").count == 1)
            #expect(sync.sandbox.object(ofType: "p_orders", id: order.id)?["status"] == "shipped")
            // Found by the log, not by HubSpot's (still empty) search.
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/p_orders/search").count == 1)
            let results = try await Self.payloads(sync, "hubsignal.hubspot.object_synced")
            #expect(results.map { $0["searchKey"] } == [.string("order_id=o-11"), .string("order_id=o-11")])
        }
    }
}
