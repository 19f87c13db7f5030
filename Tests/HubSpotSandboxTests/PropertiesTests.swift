import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: properties and value types")
struct PropertiesTests {
    @Test func createListGetAndConflict() async throws {
        try await withSandbox { sandbox, client in
            let group = try await client.post("/crm/v3/properties/contacts/groups", #"{"name":"onesignal","label":"OneSignal","displayOrder":-1}"#)
            #expect(group.status == 201)
            let body = #"""
                {"name":"onesignal_subscribed","label":"OneSignal subscribed","type":"bool","fieldType":"booleancheckbox",
                 "groupName":"onesignal","options":[{"label":"Yes","value":"true","displayOrder":0,"hidden":false},
                 {"label":"No","value":"false","displayOrder":1,"hidden":false}]}
                """#
            let created = try await client.post("/crm/v3/properties/contacts", body)
            #expect(created.status == 201)
            #expect(created.json.string("name") == "onesignal_subscribed")
            #expect(created.json.string("type") == "bool")
            #expect(created.json["hasUniqueValue"] as? Bool == false)
            #expect(created.json["hubspotDefined"] as? Bool == false)
            #expect(created.json.array("options").count == 2)
            #expect(created.json.object("modificationMetadata")["archivable"] as? Bool == true)

            let again = try await client.post("/crm/v3/properties/0-1", body)
            #expect(again.status == 409)
            #expect(again.json.string("category") == "CONFLICT")

            let list = try await client.get("/crm/v3/properties/contacts")
            #expect(list.status == 200)
            let names = list.json.array("results").compactMap { $0.string("name") }
            #expect(names.contains("email") && names.contains("lifecyclestage") && names.contains("onesignal_subscribed"))

            let one = try await client.get("/crm/v3/properties/contacts/onesignal_subscribed")
            #expect(one.json.string("groupName") == "onesignal")
            #expect(sandbox.properties(of: "contacts").contains { $0.name == "onesignal_subscribed" && $0.type == .bool })

            let missing = try await client.get("/crm/v3/properties/contacts/nope")
            #expect(missing.status == 404)
        }
    }

    @Test func createValidatesNameTypeAndFieldType() async throws {
        try await withSandbox { _, client in
            let cases = [
                (#"{"name":"Bad-Name","label":"x","type":"string","fieldType":"text","groupName":"contactinformation"}"#, "property name"),
                (#"{"name":"ok","label":"x","type":"text","fieldType":"text","groupName":"contactinformation"}"#, "type text"),
                (#"{"name":"ok","label":"x","type":"datetime","fieldType":"datetime","groupName":"contactinformation"}"#, "fieldType datetime"),
                (#"{"name":"ok","label":"x","type":"string","fieldType":"text"}"#, "[groupName]"),
                (#"{"name":"ok","label":"x","type":"string","fieldType":"text","groupName":"nogroup"}"#, "group nogroup"),
            ]
            for (body, fragment) in cases {
                let response = try await client.post("/crm/v3/properties/contacts", body)
                #expect(response.status == 400, "\(body)")
                #expect(response.json.string("message")?.contains(fragment) == true, "\(response.text)")
            }
        }
    }

    @Test func dateValuesMustBeMidnightUTC() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.defineProperty(HubSpotProperty(name: "signup_date", type: .date), on: "contacts")
            try sandbox.defineProperty(HubSpotProperty(name: "last_seen_at", type: .datetime), on: "contacts")
            let midnight = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                upsertBody([("ada@example.com", ["signup_date": "1430438400000", "last_seen_at": "2026-11-01T10:00:00Z"])]))
            #expect(midnight.status == 200)
            #expect(sandbox.contact(email: "ada@example.com")?["signup_date"] == "2015-05-01")
            #expect(sandbox.contact(email: "ada@example.com")?["last_seen_at"] == "2026-11-01T10:00:00.000Z")

            let day = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert", upsertBody([("bob@example.com", ["signup_date": "2026-02-28"])]))
            #expect(day.status == 200)
            #expect(sandbox.contact(email: "bob@example.com")?["signup_date"] == "2026-02-28")

            let single = try await client.post(
                "/crm/v3/objects/contacts", #"{"properties":{"email":"cy@example.com","signup_date":"1430438400001"}}"#)
            #expect(single.status == 400)
            #expect(single.json.string("message")?.contains(#""error":"INVALID_DATE""#) == true)
            #expect(sandbox.contact(email: "cy@example.com") == nil)
        }
    }

    @Test func typedValuesAreChecked() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.defineProperty(HubSpotProperty(name: "visits", type: .number), on: "contacts")
            try sandbox.defineProperty(HubSpotProperty(name: "vip", type: .bool), on: "contacts")
            let response = try await client.post(
                "/crm/v3/objects/contacts/batch/upsert",
                upsertBody([
                    ("a@example.com", ["visits": "12"]), ("b@example.com", ["visits": "twelve"]), ("c@example.com", ["vip": "yes"]),
                    ("d@example.com", ["lifecyclestage": "whale"]),
                ]))
            #expect(response.status == 207)
            #expect(response.json["numErrors"] as? Int == 3)
            let messages = response.json.array("errors").compactMap { $0.string("message") }.joined()
            #expect(messages.contains("INVALID_FLOAT"))
            #expect(messages.contains("INVALID_BOOLEAN"))
            #expect(messages.contains("was not one of the allowed options: [subscriber, lead"))
            #expect(sandbox.contacts().map { $0["email"] } == ["a@example.com"])
        }
    }
}
