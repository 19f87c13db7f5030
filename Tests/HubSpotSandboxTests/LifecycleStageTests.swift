import Foundation
import HubSpotSandbox
import Testing

/// HubSpot does not move `lifecyclestage` backwards: a write of an earlier stage answers success and keeps the later
/// one; the earlier stage is taken once the value has been cleared by an earlier request (docs/hubspot-sync.md,
/// "Lifecycle stage"). A sandbox that simply stored every value would fail each of these.
@Suite("HubSpot sandbox: lifecycle stage")
struct LifecycleStageTests {
    @Test func anEarlierStageIsIgnoredByPatchAndTakenAfterClearing() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.post(
                "/crm/v3/objects/contacts", #"{"properties":{"email":"ada@example.com","lifecyclestage":"customer"}}"#)
            #expect(created.status == 201)
            let id = try #require(created.json.string("id"))

            let backwards = try await client.send(.PATCH, "/crm/v3/objects/contacts/\(id)", body: #"{"properties":{"lifecyclestage":"lead"}}"#)
            #expect(backwards.status == 200)
            #expect(backwards.json.object("properties")["lifecyclestage"] as? String == "customer")
            #expect(sandbox.contact(id: id)?["lifecyclestage"] == "customer")

            // Forwards is taken at once.
            _ = try await client.send(.PATCH, "/crm/v3/objects/contacts/\(id)", body: #"{"properties":{"lifecyclestage":"evangelist"}}"#)
            #expect(sandbox.contact(id: id)?["lifecyclestage"] == "evangelist")

            let cleared = try await client.send(.PATCH, "/crm/v3/objects/contacts/\(id)", body: #"{"properties":{"lifecyclestage":""}}"#)
            #expect(cleared.status == 200)
            _ = try await client.send(.PATCH, "/crm/v3/objects/contacts/\(id)", body: #"{"properties":{"lifecyclestage":"lead"}}"#)
            #expect(sandbox.contact(id: id)?["lifecyclestage"] == "lead")
        }
    }

    @Test func batchUpsertKeepsTheLaterStageOfContactsAndCompanies() async throws {
        try await withSandbox { sandbox, client in
            _ = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                #"{"inputs":[{"id":"bea@example.com","idProperty":"email","properties":{"lifecyclestage":"opportunity"}}]}"#)
            let again = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                #"{"inputs":[{"id":"bea@example.com","idProperty":"email","properties":{"lifecyclestage":"subscriber","firstname":"Bea"}}]}"#)
            #expect(again.status == 200)
            let result = again.json.array("results").first?.object("properties")
            #expect(result?["lifecyclestage"] as? String == "opportunity")
            #expect(sandbox.contact(email: "bea@example.com")?["lifecyclestage"] == "opportunity")
            #expect(sandbox.contact(email: "bea@example.com")?["firstname"] == "Bea")

            // Companies have the same property and the same rule.
            let company = try await client.post("/crm/v3/objects/companies", #"{"properties":{"name":"Acme","lifecyclestage":"customer"}}"#)
            let companyID = try #require(company.json.string("id"))
            _ = try await client.send(.PATCH, "/crm/v3/objects/companies/\(companyID)", body: #"{"properties":{"lifecyclestage":"lead"}}"#)
            #expect(sandbox.company(id: companyID)?["lifecyclestage"] == "customer")
        }
    }
}
