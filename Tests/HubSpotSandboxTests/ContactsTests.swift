import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: contacts")
struct ContactsTests {
    @Test func refusesMissingOrWrongToken() async throws {
        try await withSandbox { sandbox, client in
            for token in [String?.none, "pat-na1-wrong"] {
                let response = try await client.send(.GET, "/crm/v3/objects/contacts", token: .some(token))
                #expect(response.status == 401)
                #expect(response.json.string("status") == "error")
                #expect(response.json.string("category") == "INVALID_AUTHENTICATION")
                #expect(response.json.string("message") == "Authentication credentials not found.")
                #expect(response.json.string("correlationId")?.count == 36)
                #expect(response.header("X-HubSpot-Correlation-Id") == response.json.string("correlationId"))
            }
            #expect(sandbox.requests.matching(method: "GET", path: "/crm/v3/objects/contacts").map(\.status) == [401, 401])
        }
    }

    @Test func scopesAreEnforcedWhenConfigured() async throws {
        try await withSandbox(.init(accessToken: testToken, scopes: ["crm.objects.contacts.read"])) { sandbox, client in
            let read = try await client.get("/crm/v3/objects/contacts")
            #expect(read.status == 200)
            let search = try await client.post("/crm/v3/objects/contacts/search", "{}")
            #expect(search.status == 200)
            let write = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsertBody([("ada@example.com", [:])]))
            #expect(write.status == 403)
            #expect(write.json.string("category") == "MISSING_SCOPES")
            let context = write.json.array("errors").first?.object("context")
            #expect(context?["requiredGranularScopes"] as? [String] == ["crm.objects.contacts.write"])
            let companies = try await client.get("/crm/v3/objects/companies")
            #expect(companies.status == 403)
            #expect(sandbox.contacts().isEmpty)
        }
    }

    @Test func batchUpsertCreatesThenUpdatesWithNewFlag() async throws {
        try await withSandbox { sandbox, client in
            let first = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                upsertBody([("ada@example.com", ["firstname": "Ada"]), ("bob@example.com", ["lastname": "B"])]))
            #expect(first.status == 200)
            #expect(first.json.string("status") == "COMPLETE")
            #expect(first.json.string("startedAt") != nil && first.json.string("completedAt") != nil)
            let results = first.json.array("results")
            #expect(results.map { $0["new"] as? Bool } == [true, true])
            let adaRecord = try #require(sandbox.contact(email: "ada@example.com"))
            let ada = try #require(results.first { $0.string("id") == adaRecord.id })
            let adaID = try #require(ada.string("id"))
            #expect(ada.object("properties").string("hs_object_id") == adaID)
            #expect(ada.object("properties").string("createdate") == ada.string("createdAt"))
            #expect(ada["archived"] as? Bool == false)

            let second = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert", upsertBody([("ADA@example.com", ["lastname": "Lovelace"])]))
            #expect(second.status == 200)
            let updated = try #require(second.json.array("results").first)
            #expect(updated["new"] as? Bool == false)
            #expect(updated.string("id") == adaID)

            let stored = try #require(sandbox.contact(email: "ada@example.com"))
            #expect(stored["firstname"] == "Ada")
            #expect(stored["lastname"] == "Lovelace")
            #expect(sandbox.contacts().count == 2)
        }
    }

    @Test func batchOfMoreThan100InputsIsRefused() async throws {
        try await withSandbox { sandbox, client in
            let inputs = (0..<101).map { (email: "user\($0)@example.com", properties: ["firstname": "U"]) }
            let response = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsertBody(inputs))
            #expect(response.status == 400)
            #expect(response.json.string("category") == "VALIDATION_ERROR")
            #expect(response.json.string("message")?.contains("at most 100 inputs") == true)
            #expect(sandbox.contacts().isEmpty)
        }
    }

    @Test func duplicateIDsInOneBatchAreRefused() async throws {
        try await withSandbox { sandbox, client in
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                upsertBody([("ada@example.com", ["firstname": "A"]), ("Ada@Example.com", ["firstname": "B"])]))
            #expect(response.status == 400)
            #expect(response.json.string("category") == "VALIDATION_ERROR")
            #expect(response.json.string("message")?.hasPrefix("Duplicate IDs found in batch input") == true)
            #expect(sandbox.contacts().isEmpty)
        }
    }

    @Test func unknownPropertyRefusesTheWholeBatchWithEmbeddedJSON() async throws {
        try await withSandbox { sandbox, client in
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                upsertBody([("ada@example.com", ["firstname": "Ada"]), ("bob@example.com", ["prop2": "x"])]))
            #expect(response.status == 400)
            #expect(response.json.string("category") == "VALIDATION_ERROR")
            let expected =
                #"Property values were not valid: [{"isValid":false,"message":"Property \"prop2\" does not exist","error":"PROPERTY_DOESNT_EXIST","name":"prop2","localizedErrorMessage":"Property \"prop2\" does not exist","portalId":12345678}]"#
            #expect(response.json.string("message") == expected)
            #expect(sandbox.contacts().isEmpty)
        }
    }

    @Test func invalidEmailIsAPerRecordError() async throws {
        try await withSandbox { sandbox, client in
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                #"{"inputs":[{"idProperty":"email","id":"ada@example.com","properties":{"firstname":"Ada"},"objectWriteTraceId":"t-1"},{"idProperty":"email","id":"not-an-email","properties":{"firstname":"X"},"objectWriteTraceId":"t-2"}]}"#)
            #expect(response.status == 207)
            // HubSpot need not echo the trace id in results (optional in SimplePublicUpsertObject): only errors name it.
            #expect(response.json.array("results").count == 1)
            #expect(response.json.array("results").first?["objectWriteTraceId"] == nil)
            #expect(response.json.array("errors").first?.object("context")["objectWriteTraceId"] as? [String] == ["t-2"])
            #expect(response.json["numErrors"] as? Int == 1)
            let error = try #require(response.json.array("errors").first)
            #expect(error.string("status") == "error")
            #expect(error.string("category") == "VALIDATION_ERROR")
            #expect(error.string("message")?.contains(#""error":"INVALID_EMAIL""#) == true)
            #expect(error.object("context")["ids"] as? [String] == ["not-an-email"])
            #expect(response.json.array("results").count == 1)
            #expect(sandbox.contact(email: "ada@example.com")?["firstname"] == "Ada")
            #expect(sandbox.contacts().count == 1)
        }
    }

    @Test func createConflictReadAndPatchByEmail() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.post(
                "/crm/v3/objects/contacts", #"{"properties":{"email":"Ada@Example.com","firstname":"Ada"}}"#)
            #expect(created.status == 201)
            let id = try #require(created.json.string("id"))
            #expect(created.json.object("properties").string("email") == "ada@example.com")

            let conflict = try await client.post("/crm/v3/objects/contacts", #"{"properties":{"email":"ada@example.com"}}"#)
            #expect(conflict.status == 409)
            #expect(conflict.json.string("category") == "CONFLICT")
            #expect(conflict.json.string("message") == "Contact already exists. Existing ID: \(id)")

            let read = try await client.get("/crm/v3/objects/contacts/ada%40example.com?idProperty=email&properties=firstname,city")
            #expect(read.status == 200)
            #expect(read.json.string("id") == id)
            let properties = read.json.object("properties")
            #expect(properties.string("firstname") == "Ada")
            #expect(properties["city"] is NSNull)
            #expect(properties.string("hs_object_id") == id)

            let patched = try await client.send(
                .PATCH, "/crm/v3/objects/contacts/ada@example.com?idProperty=email", body: #"{"properties":{"city":"London","firstname":""}}"#)
            #expect(patched.status == 200)
            #expect(sandbox.contact(id: id)?["city"] == "London")
            #expect(sandbox.contact(id: id)?["firstname"] == nil)

            let readOnly = try await client.send(
                .PATCH, "/crm/v3/objects/contacts/\(id)", body: #"{"properties":{"createdate":"2020-01-01T00:00:00Z"}}"#)
            #expect(readOnly.status == 400)
            #expect(readOnly.json.string("message")?.contains("READ_ONLY_VALUE") == true)

            let missing = try await client.get("/crm/v3/objects/contacts/999999")
            #expect(missing.status == 404)
            #expect(missing.json.string("category") == "OBJECT_NOT_FOUND")

            let deleted = try await client.send(.DELETE, "/crm/v3/objects/contacts/\(id)")
            #expect(deleted.status == 204)
            #expect(sandbox.contact(id: id) == nil)
            #expect(sandbox.anyObject(ofType: "contacts", id: id)?.archived == true)
        }
    }

    @Test func malformedAndMistypedBodiesAreValidationErrors() async throws {
        try await withSandbox { _, client in
            let malformed = try await client.post("/crm/v3/objects/contacts", #"{"properties":"#)
            #expect(malformed.status == 400)
            #expect(malformed.json.string("message")?.hasPrefix("Invalid input JSON") == true)

            let missing = try await client.post("/crm/v3/objects/contacts/batch/upsert", #"{"inputs":[{"idProperty":"email","properties":{}}]}"#)
            #expect(missing.status == 400)
            #expect(missing.json.string("message")?.contains("[id]") == true)

            let mistyped = try await client.post("/crm/v3/objects/contacts", #"{"properties":{"email":"a@b.co","firstname":5}}"#)
            #expect(mistyped.status == 400)
            #expect(mistyped.json.string("message")?.contains("firstname must be a string") == true)
        }
    }

    @Test func batchReadReportsMissingIDsAs207() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com", "firstname": "Ada"])
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/read",
                #"{"inputs":[{"id":"\#(ada.id)"},{"id":"424242"}],"properties":["firstname"]}"#)
            #expect(response.status == 207)
            #expect(response.json.array("results").first?.object("properties").string("firstname") == "Ada")
            let error = try #require(response.json.array("errors").first)
            #expect(error.string("category") == "OBJECT_NOT_FOUND")
            #expect(error.object("context")["ids"] as? [String] == ["424242"])
        }
    }

    @Test func mergeKeepsThePrimaryAndMovesAssociations() async throws {
        try await withSandbox { sandbox, client in
            let primary = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com", "firstname": "Ada"])
            let merged = try sandbox.seedObject(
                ofType: "contacts", properties: ["email": "ada.l@example.com", "firstname": "A.", "city": "London"])
            let acme = try sandbox.seedObject(ofType: "companies", properties: ["name": "Acme"])
            let put = try await client.send(.PUT, "/crm/v4/objects/contacts/\(merged.id)/associations/default/companies/\(acme.id)")
            #expect(put.status == 200)

            let response = try await client.post(
                "/crm/v3/objects/contacts/merge", #"{"primaryObjectId":"\#(primary.id)","objectIdToMerge":"\#(merged.id)"}"#)
            #expect(response.status == 200)
            #expect(response.json.string("id") == primary.id)
            let stored = try #require(sandbox.contact(id: primary.id))
            #expect(stored["firstname"] == "Ada")
            #expect(stored["city"] == "London")
            #expect(stored["email"] == "ada@example.com")
            #expect(sandbox.contact(id: merged.id) == nil)
            #expect(sandbox.associations(from: "contacts", id: primary.id).map(\.toObjectID) == [acme.id])
            #expect(sandbox.associations(from: "companies", id: acme.id).map(\.toObjectID) == [primary.id])

            let gdpr = try await client.post("/crm/v3/objects/contacts/gdpr-delete", #"{"objectId":"ada@example.com","idProperty":"email"}"#)
            #expect(gdpr.status == 204)
            #expect(sandbox.anyObject(ofType: "contacts", id: primary.id) == nil)
            #expect(sandbox.associations(from: "companies", id: acme.id).isEmpty)
        }
    }

    @Test func uniqueValuesFollowChangesAndArchives() async throws {
        try await withSandbox { sandbox, client in
            let ada = try sandbox.seedObject(ofType: "contacts", properties: ["email": "ada@example.com"])
            let renamed = try await client.send(
                .PATCH, "/crm/v3/objects/contacts/\(ada.id)", body: #"{"properties":{"email":"Augusta@Example.com"}}"#)
            #expect(renamed.status == 200)
            #expect(sandbox.contact(email: "ada@example.com") == nil)
            #expect(sandbox.contact(email: "augusta@example.com")?.id == ada.id)

            let reuse = try await client.post("/crm/v3/objects/contacts", #"{"properties":{"email":"ada@example.com"}}"#)
            #expect(reuse.status == 201)
            let taken = try await client.send(
                .PATCH, "/crm/v3/objects/contacts/\(ada.id)", body: #"{"properties":{"email":"ADA@example.com"}}"#)
            #expect(taken.status == 409)

            #expect(try await client.send(.DELETE, "/crm/v3/objects/contacts/\(ada.id)").status == 204)
            let afterArchive = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert", upsertBody([("augusta@example.com", ["firstname": "A"])]))
            #expect(afterArchive.json.array("results").first?["new"] as? Bool == true)
            #expect(afterArchive.json.array("results").first?.string("id") != ada.id)
        }
    }

    /// An upsert answer holds what HubSpot's spec promises and no more: no `objectWriteTraceId`, only the properties the
    /// input wrote (plus HubSpot's own), in no input order. A lenient sandbox echoing the trace id, every property and
    /// the input order passes a client that relies on them; this one does not.
    @Test func upsertAnswersCarryOnlyWhatHubSpotPromises() async throws {
        try await withSandbox { sandbox, client in
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                #"{"inputs":[{"idProperty":"email","id":"ada@example.com","properties":{"firstname":"Ada"},"objectWriteTraceId":"t-1"},{"idProperty":"email","id":"bob@example.com","properties":{"email":"bob@example.com","lastname":"B"},"objectWriteTraceId":"t-2"}]}"#)
            #expect(response.status == 200)
            let results = response.json.array("results")
            #expect(results.count == 2)
            #expect(results.allSatisfy { $0["objectWriteTraceId"] == nil })
            // Last input first: position says nothing.
            let ada = try #require(sandbox.contact(email: "ada@example.com"))
            let bob = try #require(sandbox.contact(email: "bob@example.com"))
            #expect(results.map { $0.string("id") } == [bob.id, ada.id])
            // Ada's input did not write her email: it is not in her result. Bob's did: it is.
            let adaProperties = results[1].object("properties")
            #expect(adaProperties["email"] == nil)
            #expect(adaProperties.string("firstname") == "Ada")
            #expect(adaProperties.string("hs_object_id") == ada.id)
            #expect(results[0].object("properties").string("email") == "bob@example.com")
            #expect(results[0].object("properties")["firstname"] == nil)
        }
    }

    /// GDPR deletion of a contact HubSpot does not have answers 404 (undocumented in CON-v3, which lists only 204; the
    /// client counts it as deleted).
    @Test func gdprDeletionOfAnUnknownContactIs404() async throws {
        try await withSandbox { _, client in
            let missing = try await client.post("/crm/v3/objects/contacts/gdpr-delete", #"{"objectId":"nobody@example.com","idProperty":"email"}"#)
            #expect(missing.status == 404)
            #expect(missing.json.string("category") == "OBJECT_NOT_FOUND")
        }
    }
}
