import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Users, aliases and tags")
struct UserTests {
    @Test("Create (201), upsert (202), view, update (202) and delete a user")
    func lifecycle() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.send(
                .POST, Paths.users(),
                body: #"""
                    {"identity":{"external_id":"contact_123"},
                     "properties":{"tags":{"plan":"pro","company_id":"c_9"},"language":"en","timezone_id":"America/Los_Angeles"},
                     "subscriptions":[{"type":"Email","token":"joe@example.com","enabled":true}]}
                    """#)
            #expect(created.status == 201)
            let onesignalID = try #require(created.json["identity"]?["onesignal_id"]?.stringValue)
            #expect(UUID(uuidString: onesignalID) != nil)
            #expect(created.json["identity"]?["external_id"] == .string("contact_123"))
            #expect(created.json["properties"]?["tags"] == json(#"{"plan":"pro","company_id":"c_9"}"#))
            #expect(created.json["subscriptions"]?.arrayValue?.first?["token"] == .string("joe@example.com"))
            #expect(created.json["subscriptions"]?.arrayValue?.first?["type"] == .string("Email"))
            #expect(created.json["subscriptions"]?.arrayValue?.first?["app_id"] == .string(TestApps.a.id))

            let again = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"contact_123"},"properties":{"tags":{"color":"red"}}}"#)
            #expect(again.status == 202)
            #expect(again.json["identity"]?["onesignal_id"] == .string(onesignalID))
            #expect(again.json["properties"]?["tags"] == json(#"{"plan":"pro","company_id":"c_9","color":"red"}"#))

            let viewed = try await client.send(.GET, Paths.user("contact_123"))
            #expect(viewed.status == 200)
            #expect(viewed.json["properties"]?["language"] == .string("en"))
            #expect(viewed.json["properties"]?["timezone_id"] == .string("America/Los_Angeles"))
            #expect(viewed.json["subscriptions"]?.arrayValue?.count == 1)
            #expect(viewed.json["subscriptions"]?.arrayValue?.first?["enabled"] == .bool(true))
            #expect(viewed.json["subscriptions"]?.arrayValue?.first?["notification_types"] == .int(1))

            let updated = try await client.send(
                .PATCH, Paths.user("contact_123"), body: #"{"properties":{"tags":{"plan":"enterprise","color":""},"country":"US"}}"#)
            #expect(updated.status == 202)
            #expect(updated.json == json(#"{"properties":{"tags":{"plan":"enterprise","color":""},"country":"US"}}"#))

            let byOneSignalID = try await client.send(.GET, "/apps/\(TestApps.a.id)/users/by/onesignal_id/\(onesignalID)")
            #expect(byOneSignalID.status == 200)
            #expect(byOneSignalID.json["properties"]?["tags"] == json(#"{"plan":"enterprise","company_id":"c_9"}"#))
            #expect(byOneSignalID.json["properties"]?["country"] == .string("US"))
            #expect(byOneSignalID.json["properties"]?["language"] == .string("en"))

            let deleted = try await client.send(.DELETE, Paths.user("contact_123"))
            #expect(deleted.status == 200)
            #expect(deleted.text.isEmpty)
            let gone = try await client.send(.GET, Paths.user("contact_123"))
            #expect(gone.status == 404)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "contact_123") == nil)
        }
    }

    @Test("Updating or viewing an unknown user is 404 User not found")
    func unknownUser() async throws {
        try await withSandbox { _, client in
            let patch = try await client.send(.PATCH, Paths.user("ghost"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(patch.status == 404)
            #expect(patch.json["errors"]?.arrayValue?.first?["title"] == .string("User not found"))
            #expect(patch.json["errors"]?.arrayValue?.first?["code"] == .string("user-0"))
            let view = try await client.send(.GET, Paths.user("ghost"))
            #expect(view.status == 404)
            let invalid = try await client.send(.GET, "/apps/\(TestApps.a.id)/users/by/onesignal_id/123")
            #expect(invalid.status == 400)
            #expect(invalid.json == json(#"{"errors":[{"code":"request-1","title":"Invalid UUID","meta":{"onesignal_id":"123"}}]}"#))
        }
    }

    @Test("A tag sent as \"\" or null is deleted; tags not sent stay")
    func tagDeletes() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-del", tags: ["a": "1", "b": "2", "c": "3"])
            let answer = try await client.send(.PATCH, Paths.user("u-del"), body: #"{"properties":{"tags":{"a":"","b":null}}}"#)
            #expect(answer.status == 202)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-del")?.tags == ["c": "3"])
        }
    }

    @Test("Over the tag cap: a new key is refused with the documented body, existing keys still update")
    func tagLimit() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-cap", tags: ["a": "1", "b": "2", "c": "3"])
            let added = try await client.send(.PATCH, Paths.user("u-cap"), body: #"{"properties":{"tags":{"d":"4"}}}"#)
            #expect(added.status == 400)
            #expect(added.json == json(#"{"errors":["App is limited to a maximum of 3 tags on a given player"],"success":false}"#))

            let mixed = try await client.send(.PATCH, Paths.user("u-cap"), body: #"{"properties":{"tags":{"a":"","d":"4"}}}"#)
            #expect(mixed.status == 400)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-cap")?.tags == ["a": "1", "b": "2", "c": "3"])

            let changed = try await client.send(.PATCH, Paths.user("u-cap"), body: #"{"properties":{"tags":{"a":"10","c":"30"}}}"#)
            #expect(changed.status == 202)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-cap")?.tags == ["a": "10", "b": "2", "c": "30"])

            let create = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"u-cap2"},"properties":{"tags":{"a":"1","b":"2","c":"3","d":"4"}}}"#)
            #expect(create.status == 400)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-cap2") == nil)
        }
    }

    @Test("Numbers and booleans become text; arrays and objects are refused (default policy)")
    func coercedTagValues() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-types")
            let scalars = try await client.send(.PATCH, Paths.user("u-types"), body: #"{"properties":{"tags":{"n":42,"f":true}}}"#)
            #expect(scalars.status == 202)
            #expect(scalars.json == json(#"{"properties":{"tags":{"n":"42","f":"true"}}}"#))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-types")?.tags == ["n": "42", "f": "true"])

            let array = try await client.send(.PATCH, Paths.user("u-types"), body: #"{"properties":{"tags":{"list":["a","b"]}}}"#)
            #expect(array.status == 400)
            let title = array.json["errors"]?.arrayValue?.first?["title"]?.stringValue ?? ""
            #expect(title.contains("properties.tags.list"))
            #expect(title.contains("Tag values must be strings"))
            let object = try await client.send(.PATCH, Paths.user("u-types"), body: #"{"properties":{"tags":{"obj":{"x":"1"}}}}"#)
            #expect(object.status == 400)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-types")?.tags == ["n": "42", "f": "true"])
        }
    }

    @Test("With the strings-only policy a number is refused too")
    func stringsOnlyTagValues() async throws {
        var configuration = TestApps.configuration()
        configuration.tagValuePolicy = .stringsOnly
        try await withSandbox(configuration) { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-strict")
            let number = try await client.send(.PATCH, Paths.user("u-strict"), body: #"{"properties":{"tags":{"n":42}}}"#)
            #expect(number.status == 400)
            #expect(number.json["errors"]?.arrayValue?.first?["meta"]?["tag"] == .string("n"))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "u-strict")?.tags == [:])
        }
    }

    @Test("Bodies are checked against the OpenAPI schemas, naming the field")
    func schemaValidation() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-schema")
            let tagsNotObject = try await client.send(.PATCH, Paths.user("u-schema"), body: #"{"properties":{"tags":"plan=pro"}}"#)
            #expect(tagsNotObject.status == 400)
            #expect(tagsNotObject.json["errors"]?.arrayValue?.first?["title"] == .string("properties.tags must be an object, not a string"))

            let badType = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"x"},"subscriptions":[{"type":"Pigeon","token":"t"}]}"#)
            #expect(badType.status == 400)
            let title = badType.json["errors"]?.arrayValue?.first?["title"]?.stringValue ?? ""
            #expect(title.hasPrefix("subscriptions[0].type must be one of iOSPush"))

            let identityNumber = try await client.send(.POST, Paths.users(), body: #"{"identity":{"external_id":42}}"#)
            #expect(identityNumber.status == 400)
            #expect(identityNumber.json["errors"]?.arrayValue?.first?["title"] == .string("identity.external_id must be a string, not a number"))

            let notJSON = try await client.send(.POST, Paths.users(), body: "{")
            #expect(notJSON.status == 400)
            #expect(notJSON.json["errors"]?.arrayValue?.first?["title"] == .string("the body is not valid JSON"))

            let tooMany = (0..<101).map { "\"k\($0)\":\"v\"" }.joined(separator: ",")
            let overHundred = try await client.send(.PATCH, Paths.user("u-schema"), body: "{\"properties\":{\"tags\":{\(tooMany)}}}")
            #expect(overHundred.status == 400)
            #expect(overHundred.json == json(#"{"errors":["Please limit your tag updates to 100 per request"],"success":false}"#))
        }
    }

    @Test("Aliases: list, upsert, conflict on create and delete")
    func aliases() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-alias")
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-other", aliases: ["crm_id": "7"])
            let upsert = try await client.send(.PATCH, Paths.user("u-alias") + "/identity", body: #"{"identity":{"crm_id":"42"}}"#)
            #expect(upsert.status == 200)
            #expect(upsert.json["identity"]?["crm_id"] == .string("42"))
            #expect(upsert.json["identity"]?["external_id"] == .string("u-alias"))

            let listed = try await client.send(.GET, "/apps/\(TestApps.a.id)/users/by/crm_id/42/identity")
            #expect(listed.status == 200)
            #expect(listed.json["identity"]?["external_id"] == .string("u-alias"))

            let conflict = try await client.send(.POST, Paths.users(), body: #"{"identity":{"external_id":"u-alias","crm_id":"7"}}"#)
            #expect(conflict.status == 409)
            #expect(conflict.json["errors"]?.arrayValue?.first?["code"] == .string("Conflict"))
            #expect(conflict.json["errors"]?.arrayValue?.first?["meta"]?["conflicting_aliases"] == json(#"{"external_id":"u-alias","crm_id":"7"}"#))

            let removed = try await client.send(.DELETE, Paths.user("u-alias") + "/identity/crm_id")
            #expect(removed.status == 200)
            #expect(removed.json["identity"]?["crm_id"] == nil)
            #expect(sandbox.user(appID: TestApps.a.id, alias: "crm_id", id: "42") == nil)
        }
    }

    @Test("Legacy PUT /api/v1/apps/{app_id}/users/{external_user_id} edits tags with Basic auth")
    func legacyTagEdit() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "legacy", tags: ["referral": "x"])
            let path = "/api/v1/apps/\(TestApps.a.id)/users/legacy"
            let basic = "Basic \(TestApps.a.apiKey)"
            let edited = try await client.send(
                .PUT, path, body: #"{"tags":{"plan":"premium","logged_in":"true","referral":""}}"#, authorization: basic)
            #expect(edited.status == 200)
            #expect(edited.json == json(#"{"success":true}"#))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "legacy")?.tags == ["plan": "premium", "logged_in": "true"])

            let overCap = try await client.send(.PUT, path, body: #"{"tags":{"c":"1","d":"2"}}"#, authorization: basic)
            #expect(overCap.status == 400)
            #expect(overCap.json == json(#"{"errors":["App is limited to a maximum of 3 tags on a given player"],"success":false}"#))

            let nested = try await client.send(.PUT, path, body: #"{"tags":{"plan":["a"]}}"#, authorization: basic)
            #expect(nested.status == 400)
            #expect(nested.json["success"] == .bool(false))
            #expect(nested.json["errors"]?.arrayValue?.first?.stringValue?.contains("properties.tags.plan") == true)

            let unknown = try await client.send(
                .PUT, "/api/v1/apps/\(TestApps.a.id)/users/nobody", body: #"{"tags":{"a":"1"}}"#, authorization: basic)
            #expect(unknown.status == 404)
            #expect(unknown.json == json(#"{"errors":["User not found"],"success":false}"#))
        }
    }

    @Test("An external id with a slash is addressed percent-encoded")
    func encodedExternalID() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "team/42", tags: ["a": "1"])
            let answer = try await client.send(.GET, Paths.user("team%2F42"))
            #expect(answer.status == 200)
            #expect(answer.json["identity"]?["external_id"] == .string("team/42"))
        }
    }
}
