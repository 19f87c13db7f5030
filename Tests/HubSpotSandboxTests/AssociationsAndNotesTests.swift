import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: associations and notes")
struct AssociationsAndNotesTests {
    @Test func defaultLabelledBatchAndRead() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com"])
            let bob = try sandbox.seedObject(ofType: "contacts", properties: ["email": "bob@example.com"])
            let acme = try sandbox.seedObject(ofType: "companies", properties: ["name": "Acme"])

            let single = try await client.send(.PUT, "/crm/v4/objects/contact/\(ada.id)/associations/default/company/\(acme.id)")
            #expect(single.status == 200)
            let spec = single.json.array("results").first?.object("associationSpec")
            #expect(spec?["associationTypeId"] as? Int == 279)
            #expect(sandbox.associations(from: "companies", id: acme.id).first?.types.map(\.typeID) == [280])

            let labelled = try await client.send(
                .PUT, "/crm/v4/objects/contact/\(ada.id)/associations/company/\(acme.id)",
                body: #"[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":1}]"#)
            #expect(labelled.status == 201)
            #expect(labelled.json["labels"] as? [String] == ["Primary"])
            #expect(labelled.json.string("fromObjectTypeId") == "0-1")

            let batch = try await client.post(
                "/crm/v4/associations/contact/company/batch/associate/default",
                #"{"inputs":[{"from":{"id":"\#(bob.id)"},"to":{"id":"\#(acme.id)"}},{"from":{"id":"999999"},"to":{"id":"\#(acme.id)"}}]}"#)
            #expect(batch.status == 207)
            #expect(batch.json["numErrors"] as? Int == 1)

            let read = try await client.post(
                "/crm/v4/associations/contacts/companies/batch/read", #"{"inputs":[{"id":"\#(ada.id)"},{"id":"\#(bob.id)"}]}"#)
            #expect(read.status == 200)
            let results = read.json.array("results")
            #expect(results.count == 2)
            let adaTypes = results.first { $0.object("from").string("id") == ada.id }?.array("to").first?.array("associationTypes")
            #expect(Set(adaTypes?.compactMap { $0["typeId"] as? Int } ?? []) == [279, 1])

            let list = try await client.get("/crm/v4/objects/company/\(acme.id)/associations/contact")
            #expect(list.json.array("results").compactMap { $0["toObjectId"] as? Int }.map(String.init) == [ada.id, bob.id])

            let v3 = try await client.get("/crm/v3/objects/contacts/\(ada.id)?associations=companies")
            let v3Results = v3.json.object("associations").object("companies").array("results")
            #expect(Set(v3Results.compactMap { $0.string("type") }) == ["contact_to_company", "contact_to_company_unlabeled"])

            let archive = try await client.post(
                "/crm/v4/associations/contact/company/batch/archive", #"{"inputs":[{"from":{"id":"\#(bob.id)"},"to":[{"id":"\#(acme.id)"}]}]}"#)
            #expect(archive.status == 204)
            #expect(sandbox.associations(from: "contacts", id: bob.id).isEmpty)
            #expect(sandbox.associations(from: "companies", id: acme.id).map(\.toObjectID) == [ada.id])

            let missing = try await client.send(.PUT, "/crm/v4/objects/contact/\(ada.id)/associations/default/company/424242")
            #expect(missing.status == 404)
        }
    }

    /// HubSpot answers a v4 batch create with the object ids as numbers (its specs say strings): the sandbox does too,
    /// so a client that only reads strings fails here as it would against HubSpot.
    @Test func batchCreateAnswersObjectIdsAsNumbers() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com"])
            let acme = try sandbox.seedObject(ofType: "companies", properties: ["name": "Acme"])
            let created = try await client.post(
                "/crm/v4/associations/contacts/companies/batch/create",
                #"{"inputs":[{"from":{"id":"\#(ada.id)"},"to":{"id":"\#(acme.id)"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":279}]}]}"#)
            #expect(created.status == 201)
            let result = try #require(created.json.array("results").first)
            #expect(result["fromObjectId"] as? Int == Int(ada.id))
            #expect(result["toObjectId"] as? Int == Int(acme.id))
            #expect(result["fromObjectId"] as? String == nil)
        }
    }

    @Test func noteWithContactAssociation() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com"])
            let body = #"""
                {"properties":{"hs_timestamp":"2026-11-01T10:00:00Z","hs_note_body":"Clicked <b>Sale</b>"},
                 "associations":[{"to":{"id":"\#(ada.id)"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":202}]}]}
                """#
            let created = try await client.post("/crm/v3/objects/notes", body)
            #expect(created.status == 201)
            let noteID = try #require(created.json.string("id"))
            #expect(sandbox.notes(forContact: ada.id).map(\.id) == [noteID])
            #expect(sandbox.notes(forContact: ada.id).first?["hs_note_body"] == "Clicked <b>Sale</b>")

            let viaV4 = try await client.get("/crm/v4/objects/contacts/\(ada.id)/associations/notes")
            let types = viaV4.json.array("results").first?.array("associationTypes").compactMap { $0["typeId"] as? Int }
            #expect(types == [201])

            let noTimestamp = try await client.post("/crm/v3/objects/notes", #"{"properties":{"hs_note_body":"x"}}"#)
            #expect(noTimestamp.status == 400)
            let badTarget = try await client.post(
                "/crm/v3/objects/notes",
                #"{"properties":{"hs_timestamp":"1762000000000"},"associations":[{"to":{"id":"424242"},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":202}]}]}"#)
            #expect(badTarget.status == 400)
            #expect(sandbox.objects(ofType: "notes").count == 1)
        }
    }

    @Test func userDefinedLabels() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com"])
            let acme = try sandbox.seedObject(ofType: "companies", properties: ["name": "Acme"])
            let builtIn = try await client.get("/crm/v4/associations/contact/company/labels")
            let pairs = builtIn.json.array("results").map { "\($0["typeId"] as? Int ?? 0):\($0.string("label") ?? "-")" }
            #expect(pairs == ["1:Primary", "279:-"])

            let created = try await client.post(
                "/crm/v4/associations/contact/company/labels", #"{"label":"Billing contact","name":"billing_contact","inverseLabel":"Billed company"}"#)
            #expect(created.status == 200)
            let types = created.json.array("results")
            #expect(types.map { $0.string("category") } == ["USER_DEFINED", "USER_DEFINED"])
            let typeID = try #require(types.first?["typeId"] as? Int)

            let labelled = try await client.send(
                .PUT, "/crm/v4/objects/contacts/\(ada.id)/associations/companies/\(acme.id)",
                body: #"[{"associationCategory":"USER_DEFINED","associationTypeId":\#(typeID)}]"#)
            #expect(labelled.status == 201)
            #expect(labelled.json["labels"] as? [String] == ["Billing contact"])
            let back = sandbox.associations(from: "companies", id: acme.id).first?.types.compactMap(\.label)
            #expect(back == ["Billed company"])

            let wrongCategory = try await client.send(
                .PUT, "/crm/v4/objects/contacts/\(ada.id)/associations/companies/\(acme.id)",
                body: #"[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":\#(typeID)}]"#)
            #expect(wrongCategory.status == 400)
        }
    }

    /// Association labels are served on the current spec's path (`/crm/associations/v4/…`, ASCH-v4) and on the 2024
    /// spec's (`/crm/v4/associations/…`), with the same answer.
    @Test func labelsAreServedOnTheCurrentAndTheLegacyPath() async throws {
        try await withSandbox { _, client in
            let current = try await client.get("/crm/associations/v4/contacts/companies/labels")
            let legacy = try await client.get("/crm/v4/associations/contacts/companies/labels")
            #expect(current.status == 200)
            #expect(current.json.array("results").map { $0["typeId"] as? Int } == [1, 279])
            #expect(current.json.array("results").map { $0["typeId"] as? Int } == legacy.json.array("results").map { $0["typeId"] as? Int })
        }
    }
}
