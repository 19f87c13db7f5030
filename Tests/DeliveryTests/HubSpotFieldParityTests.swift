import Delivery
import Domain
import Foundation
import HubSpotSandbox
import Mapping
import Operations
import PQ
import Testing
import TestSupport

/// Issue 22 items 6 and 7 against the HubSpot sandbox: a trait matching a property of the account is sent without a
/// rule, a value HubSpot cannot take is left out with its reason in `sync_status.dropped` (the rest still goes), the
/// special fields Segment's HubSpot destinations map, and a lifecycle stage that would move backwards.
@Suite(.timeLimit(.minutes(3)))
struct HubSpotFieldParityTests {
    /// The contact's HubSpot `sync_status` row: its state and `dropped`.
    func hubSpotRow(_ sync: SyncHarness, email: String) async throws -> (state: String, dropped: [String: String]) {
        let rows = try await sync.client.query(
            """
            SELECT s.state, s.dropped::text FROM sync_status s JOIN contacts c USING (contact_id)
            WHERE s.destination = 'hubspot' AND c.email = \(email)
            """)
        let row = try #require(rows.first)
        let dropped = try JSONValue.parse(Array(try row.decode(String.self, at: 1).utf8))
        var reasons: [String: String] = [:]
        if case .object(let object) = dropped {
            for (key, value) in object { reasons[key] = value.stringValue }
        }
        return (try row.decode(String.self, at: 0), reasons)
    }

    @Test func aTraitMatchingAnAccountPropertyIsSentWithoutARuleAndTheOthersAreReported() async throws {
        try await SyncHarness.run { sync in
            try sync.sandbox.defineProperty(HubSpotProperty(name: "plan", type: .string), on: "contacts")
            try await sync.identify("u1", #"{"email":"ada@example.com","plan":"pro","favorite_color":"teal","position":"CTO"}"#)
            try await sync.settle([sync.worker()])

            let contact = try #require(sync.sandbox.contact(email: "ada@example.com"))
            #expect(contact["plan"] == "pro")
            #expect(contact["jobtitle"] == "CTO")
            #expect(contact["favorite_color"] == nil)
            // Nothing was created: unknown_traits: existing only sends to properties the account has.
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/properties/contacts").isEmpty)
            #expect(try sync.upsertInputs().allSatisfy { ($0["properties"] as? [String: String])?["favorite_color"] == nil })

            let row = try await hubSpotRow(sync, email: "ada@example.com")
            #expect(row.state == "in_sync")
            #expect(row.dropped["favorite_color"]?.contains("does not exist in HubSpot") == true)
            #expect(row.dropped["plan"] == nil)
            // What `hubsignal events` and `hubsignal status` show.
            let contactID = try #require(
                try await sync.client.query("SELECT contact_id FROM contacts WHERE email = 'ada@example.com'").first?.decode(String.self, at: 0))
            let entries = try await DroppedValues.of(contactID: contactID, client: sync.client)
            #expect(entries.contains { $0.destination == "hubspot" && $0.key == "favorite_color" })
            let common = try await DroppedValues.mostCommon(client: sync.client)
            #expect(common.contains { $0.destination == "hubspot" && $0.key == "favorite_color" && $0.contacts == 1 })

            // The list the decision relied on is in the log, before the contact's result.
            let order = try await sync.client.query(
                """
                SELECT (SELECT min(position) FROM events WHERE type = 'hubsignal.hubspot.properties_read'
                          AND payload->>'objectType' = 'contacts' AND payload->'properties' ? 'plan'),
                       (SELECT min(position) FROM events WHERE type = 'hubsignal.hubspot.contact_synced')
                """)
            let read = try #require(try order.first?.decode(Int64?.self, at: 0))
            let synced = try #require(try order.first?.decode(Int64?.self, at: 1))
            #expect(read < synced)
        }
    }

    @Test func valuesTheAccountsDefinitionRefusesAreLeftOutAndTheRestIsSent() async throws {
        try await SyncHarness.run { sync in
            try sync.sandbox.defineProperty(HubSpotProperty(name: "seats", type: .number), on: "contacts")
            try sync.sandbox.defineProperty(
                HubSpotProperty(
                    name: "tier", type: .enumeration, fieldType: "select",
                    options: [.init(label: "Gold", value: "gold", displayOrder: 0), .init(label: "Silver", value: "silver", displayOrder: 1)]),
                on: "contacts")
            try await sync.identify("u2", #"{"email":"bea@example.com","seats":"many","tier":"platinum","firstName":"Bea"}"#)
            try await sync.settle([sync.worker()])

            let contact = try #require(sync.sandbox.contact(email: "bea@example.com"))
            #expect(contact["firstname"] == "Bea")
            #expect(contact["seats"] == nil)
            #expect(contact["tier"] == nil)
            let row = try await hubSpotRow(sync, email: "bea@example.com")
            #expect(row.state == "in_sync")
            #expect(row.dropped["seats"]?.contains("is not a number") == true)
            #expect(row.dropped["tier"]?.contains("not one of the HubSpot property's options (gold, silver)") == true)
            // Left out before sending: HubSpot never saw them.
            #expect(try sync.upsertInputs().allSatisfy { input in
                let properties = input["properties"] as? [String: String] ?? [:]
                return properties["seats"] == nil && properties["tier"] == nil
            })

            // A value that fits is sent on the next change, and no longer reported.
            try await sync.identify("u2", #"{"tier":"silver"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.contact(email: "bea@example.com")?["tier"] == "silver")
            #expect(try await hubSpotRow(sync, email: "bea@example.com").dropped["tier"] == nil)
        }
    }

    @Test func aValueHubSpotRefusesInItsAnswerIsDroppedAndTheContactStillSynced() async throws {
        try await SyncHarness.run { sync in
            let tier = { (options: [String]) in
                HubSpotProperty(
                    name: "tier", type: .enumeration, fieldType: "select",
                    options: options.enumerated().map { .init(label: $1, value: $1, displayOrder: $0) })
            }
            try sync.sandbox.defineProperty(tier(["gold", "silver"]), on: "contacts")
            let worker = sync.worker()
            try await sync.identify("u3", #"{"email":"cy@example.com","firstName":"Cy"}"#)
            try await sync.settle([worker])

            // Someone removes the option in HubSpot; the worker's list still has it, so HubSpot's answer is how it learns.
            try sync.sandbox.defineProperty(tier(["silver"]), on: "contacts")
            try await sync.identify("u3", #"{"tier":"gold","lastName":"Young"}"#)
            try await sync.settle([worker])

            let contact = try #require(sync.sandbox.contact(email: "cy@example.com"))
            #expect(contact["lastname"] == "Young")
            #expect(contact["tier"] == nil)
            let row = try await hubSpotRow(sync, email: "cy@example.com")
            #expect(row.state == "in_sync")
            #expect(row.dropped["tier"]?.contains("HubSpot refused the value (INVALID_OPTION)") == true)
            #expect(try await sync.projection.count("SELECT count(*) FROM deliveries WHERE state = 'dead'") == 0)
        }
    }

    @Test func companiesTakeFlatAddressTraitsAndALifecycleStage() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("u4", #"{"email":"dee@example.com"}"#)
            try await sync.group(
                "u4", groupID: "g-4",
                #"{"name":"Acme","address":"1 Main St","city":"Springfield","state":"IL","zip":"62701","country":"US","lifecyclestage":"customer"}"#)
            try await sync.settle([sync.worker()])

            let company = try #require(sync.sandbox.companies().first { $0["segment_group_id"] == "g-4" })
            #expect(company["address"] == "1 Main St")
            #expect(company["city"] == "Springfield")
            #expect(company["state"] == "IL")
            #expect(company["zip"] == "62701")
            #expect(company["country"] == "US")
            #expect(company["lifecyclestage"] == "customer")
            // Standard company properties: none was created as a custom one.
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/properties/companies").count == 1)  // segment_group_id
        }
    }

    @Test func aBackwardLifecycleStageIsKeptAndReportedByDefault() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("u5", #"{"email":"eve@example.com","lifecycle_stage":"customer"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.contact(email: "eve@example.com")?["lifecyclestage"] == "customer")

            try await sync.identify("u5", #"{"lifecycle_stage":"lead","firstName":"Eve"}"#)
            try await sync.settle([sync.worker()])
            let contact = try #require(sync.sandbox.contact(email: "eve@example.com"))
            #expect(contact["lifecyclestage"] == "customer")
            #expect(contact["firstname"] == "Eve")
            let row = try await hubSpotRow(sync, email: "eve@example.com")
            #expect(row.state == "in_sync")
            #expect(row.dropped["lifecyclestage"]?.contains("keeps the later lifecycle stage 'customer'") == true)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/crm/v3/objects/contacts/").filter { $0.method == "PATCH" }.isEmpty)
        }
    }

    @Test func aBackwardLifecycleStageIsClearedAndSetWhenTheMappingSaysSo() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse("contacts: { lifecycle_backwards: clear_and_set }")
            try await sync.identify("u6", #"{"email":"fay@example.com","lifecycle_stage":"customer"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)
            try await sync.identify("u6", #"{"lifecycle_stage":"lead"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)

            #expect(sync.sandbox.contact(email: "fay@example.com")?["lifecyclestage"] == "lead")
            let patches = sync.sandbox.requests.matching(pathPrefix: "/crm/v3/objects/contacts/").filter { $0.method == "PATCH" }
            #expect(patches.count == 2)
            let row = try await hubSpotRow(sync, email: "fay@example.com")
            #expect(row.state == "in_sync")
            #expect(row.dropped["lifecyclestage"] == nil)
        }
    }
}
