import Delivery
import Domain
import Foundation
import HubSpotSandbox
import Mapping
import PQ
import Testing
import TestSupport

/// Issue 22 item 8 against the HubSpot sandbox: the company match fields (`companies.match_by`) and
/// `companies.create_if_not_found`, as Segment's "Upsert Company" action offers them, and contacts found by a unique
/// property (`contacts.match_by`) before the upsert by email.
@Suite(.timeLimit(.minutes(3)))
struct UpsertOptionsTests {
    @Test func aCompanyIsFoundByNameOrAUniquePropertyInsteadOfATwinBeingCreated() async throws {
        try await SyncHarness.run { sync in
            try sync.sandbox.defineProperty(HubSpotProperty(name: "crm_id", type: .string, hasUniqueValue: true), on: "companies")
            let byName = try sync.sandbox.seedObject(ofType: "companies", properties: ["name": "Acme"])
            let byCRM = try sync.sandbox.seedObject(ofType: "companies", properties: ["name": "Initech Ltd", "crm_id": "C-7"])
            let mapping = try Mapping.parse("companies: { match_by: [crm_id, name], properties: { crm_id: crm_id } }")
            try await sync.group("u1", groupID: "g-1", #"{"name":"Acme","industry":"Anvils"}"#)
            try await sync.group("u2", groupID: "g-2", #"{"name":"Initech","crm_id":"C-7"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)

            #expect(sync.sandbox.companies().count == 2)
            #expect(sync.sandbox.company(id: byName.id)?["segment_group_id"] == "g-1")
            #expect(sync.sandbox.company(id: byName.id)?["industry"] == "Anvils")
            #expect(sync.sandbox.company(id: byCRM.id)?["segment_group_id"] == "g-2")
            #expect(sync.sandbox.company(id: byCRM.id)?["name"] == "Initech")
            #expect(sync.upsertCalls("companies") == 0)
        }
    }

    @Test func withoutCreateIfNotFoundAnUnknownCompanyIsADeadLetterUntilItExists() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse("companies: { create_if_not_found: false }")
            try await sync.group("u3", groupID: "g-3", #"{"name":"Nova","website":"https://nova.io"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)

            #expect(sync.sandbox.companies().isEmpty)
            let reasons = try await sync.client.query(
                "SELECT last_error FROM deliveries WHERE destination = 'hubspot' AND object_kind = 'company' AND state = 'dead'")
            #expect(reasons.count == 1)
            #expect(try reasons.first?.decode(String.self, at: 0).contains("create_if_not_found is false") == true)

            // Created in HubSpot by hand (by domain), then retried: HubSignal updates it instead of creating one.
            let seeded = try sync.sandbox.seedObject(ofType: "companies", properties: ["name": "Nova Inc", "domain": "nova.io"])
            #expect(try await DeliveryLedger(client: sync.client).retry(destination: "hubspot") == 1)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)
            #expect(sync.sandbox.companies().count == 1)
            #expect(sync.sandbox.company(id: seeded.id)?["segment_group_id"] == "g-3")
            #expect(sync.sandbox.company(id: seeded.id)?["name"] == "Nova")
        }
    }

    @Test func aContactIsFoundByAUniquePropertyBeforeTheUpsertByEmail() async throws {
        try await SyncHarness.run { sync in
            try sync.sandbox.defineProperty(HubSpotProperty(name: "crm_id", type: .string, hasUniqueValue: true), on: "contacts")
            let existing = try sync.sandbox.seedObject(ofType: "contacts", properties: ["email": "old@example.com", "crm_id": "C-1"])
            let mapping = try Mapping.parse("contacts: { match_by: [crm_id], properties: { crm_id: crm_id } }")
            try await sync.identify("u5", #"{"email":"new@example.com","crm_id":"C-1","firstName":"Ada"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)

            #expect(sync.sandbox.contacts().count == 1)
            #expect(sync.sandbox.contact(id: existing.id)?["email"] == "new@example.com")
            #expect(sync.sandbox.contact(id: existing.id)?["firstname"] == "Ada")
            #expect(sync.upsertCalls() == 0)
        }
    }

    @Test func withoutMatchByTheTwinIsRefusedForTheUniqueValue() async throws {
        try await SyncHarness.run { sync in
            // The sandbox refuses a second contact with the same value of a unique property, as HubSpot does: the upsert
            // by email would create one.
            try sync.sandbox.defineProperty(HubSpotProperty(name: "crm_id", type: .string, hasUniqueValue: true), on: "contacts")
            _ = try sync.sandbox.seedObject(ofType: "contacts", properties: ["email": "old@example.com", "crm_id": "C-2"])
            let mapping = try Mapping.parse("contacts: { properties: { crm_id: crm_id } }")
            try await sync.identify("u6", #"{"email":"new@example.com","crm_id":"C-2"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)

            #expect(sync.sandbox.contacts().count == 1)
            #expect(try await sync.projection.count("SELECT count(*) FROM deliveries WHERE state = 'dead' AND object_kind = 'contact'") == 1)
        }
    }

    @Test func withCreateIfNotFoundAnUnmatchedCompanyIsCreated() async throws {
        try await SyncHarness.run { sync in
            _ = try sync.sandbox.seedObject(ofType: "companies", properties: ["name": "Other", "domain": "other.io"])
            try await sync.group("u4", groupID: "g-4", #"{"name":"Zeta","website":"https://zeta.io"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.companies().count == 2)
            #expect(sync.sandbox.companies().first { $0["segment_group_id"] == "g-4" }?["domain"] == "zeta.io")
        }
    }
}
