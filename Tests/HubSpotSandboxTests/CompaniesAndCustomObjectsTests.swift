import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: companies and custom objects")
struct CompaniesAndCustomObjectsTests {
    @Test func companyUpsertByUniquePropertyAndNonUniqueRefusal() async throws {
        try await withSandbox { sandbox, client in
            let property = #"{"name":"external_company_id","label":"External ID","type":"string","fieldType":"text","groupName":"companyinformation","hasUniqueValue":true}"#
            #expect(try await client.post("/crm/v3/properties/companies", property).status == 201)

            let body = #"{"inputs":[{"idProperty":"external_company_id","id":"acme-1","properties":{"name":"Acme","domain":"acme.com"}}]}"#
            let first = try await client.post("/crm/v3/objects/companies/batch/upsert", body)
            #expect(first.status == 200)
            #expect(first.json.array("results").first?["new"] as? Bool == true)
            let second = try await client.post(
                "/crm/v3/objects/companies/batch/upsert",
                #"{"inputs":[{"idProperty":"external_company_id","id":"acme-1","properties":{"name":"Acme Inc"}}]}"#)
            #expect(second.json.array("results").first?["new"] as? Bool == false)
            #expect(sandbox.companies().count == 1)
            #expect(sandbox.companies().first?["name"] == "Acme Inc")
            #expect(sandbox.companies().first?["external_company_id"] == "acme-1")

            let byDomain = try await client.post(
                "/crm/v3/objects/companies/batch/upsert", #"{"inputs":[{"idProperty":"domain","id":"acme.com","properties":{"name":"A"}}]}"#)
            #expect(byDomain.status == 400)
            #expect(byDomain.json.string("message") == "Unable to perform update/upsert by non-unique 0-2 property domain in portal ID 12345678")

            let byObjectID = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert", #"{"inputs":[{"idProperty":"hs_object_id","id":"1","properties":{}}]}"#)
            #expect(byObjectID.json.string("message") == "Unable to perform update/upsert by non-unique 0-1 property hs_object_id in portal ID 12345678")

            let duplicate = try await client.post("/crm/v3/objects/companies", #"{"properties":{"external_company_id":"acme-1"}}"#)
            #expect(duplicate.status == 409)
        }
    }

    @Test func customObjectCRUDAndUpsert() async throws {
        try await withSandbox { sandbox, client in
            sandbox.defineCustomObject(
                name: "subscriptions", objectTypeID: "2-7654321",
                properties: [HubSpotProperty(name: "subscription_id", type: .string), HubSpotProperty(name: "plan", type: .string)],
                uniqueProperties: ["subscription_id"])
            let upsert = try await client.post(
                "/crm/v3/objects/p12345678_subscriptions/batch/upsert",
                #"{"inputs":[{"idProperty":"subscription_id","id":"sub-1","properties":{"plan":"pro"}}]}"#)
            #expect(upsert.status == 200)
            let id = try #require(upsert.json.array("results").first?.string("id"))
            let read = try await client.get("/crm/v3/objects/2-7654321/\(id)?properties=plan")
            #expect(read.json.object("properties").string("plan") == "pro")
            #expect(sandbox.objects(ofType: "subscriptions").first?["subscription_id"] == "sub-1")
            let unknown = try await client.get("/crm/v3/objects/nothing_here")
            #expect(unknown.status == 400)

            let schemas = try await client.get("/crm/v3/schemas")
            let schema = try #require(schemas.json.array("results").first)
            #expect(schemas.json.array("results").count == 1)
            #expect(schema.string("objectTypeId") == "2-7654321")
            #expect(schema.string("fullyQualifiedName") == "p12345678_subscriptions")
            #expect(schema.array("properties").contains { $0.string("name") == "subscription_id" && $0["hasUniqueValue"] as? Bool == true })
            #expect(schema.array("associations").contains { $0.string("toObjectTypeId") == "0-1" })
            #expect(try await client.get("/crm/v3/schemas/2-7654321").status == 200)
            #expect(try await client.get("/crm/v3/schemas/contacts").status == 404)
        }
    }
}
