import Domain
import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Authorization and apps")
struct AuthTests {
    static let accessDenied = json(
        #"{"errors":["Access denied.  Please include an 'Authorization: ...' header with a valid API key (https://documentation.onesignal.com/docs/en/keys-and-ids#api-keys)."]}"#
    )

    @Test("A missing, wrong or foreign key is 403 with the edge's exact body")
    func refusedKeys() async throws {
        try await withSandbox { _, client in
            let path = Paths.user("nobody")
            let missing = try await client.send(.GET, path, authorization: nil)
            #expect(missing.status == 403)
            #expect(missing.json == Self.accessDenied)
            #expect(missing.text.contains("Access denied.  Please include"))

            let wrong = try await client.send(.GET, path, authorization: "Key os_v2_app_wrong")
            #expect(wrong.status == 403)
            #expect(wrong.json == Self.accessDenied)

            let bearer = try await client.send(.GET, path, authorization: "Bearer \(TestApps.a.apiKey)")
            #expect(bearer.status == 403)

            let foreign = try await client.send(.GET, path, authorization: "Key \(TestApps.b.apiKey)")
            #expect(foreign.status == 403)
            #expect(foreign.json == Self.accessDenied)
        }
    }

    @Test("Key, key and legacy Basic all carry the key")
    func acceptedSchemes() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "u-1")
            for scheme in ["Key", "key", "Basic"] {
                let answer = try await client.send(.GET, Paths.user("u-1"), authorization: "\(scheme) \(TestApps.a.apiKey)")
                #expect(answer.status == 200, "scheme \(scheme)")
                #expect(answer.json["identity"]?["external_id"] == .string("u-1"))
            }
        }
    }

    @Test("An unknown app id is 400 app_id not found")
    func unknownApp() async throws {
        try await withSandbox { _, client in
            let answer = try await client.send(.GET, Paths.user("u-1", app: "00000000-0000-4000-8000-000000000000"))
            #expect(answer.status == 400)
            #expect(answer.json == json(#"{"errors":["app_id not found. You may be missing a Content-Type: application/json header."]}"#))

            let notification = try await client.send(
                .POST, "/notifications", body: #"{"include_aliases":{"external_id":["u-1"]},"target_channel":"push","contents":{"en":"Hi"}}"#)
            #expect(notification.status == 400)
            #expect(notification.json["errors"]?.arrayValue?.first == .string("app_id not found. You may be missing a Content-Type: application/json header."))
        }
    }

    @Test("Two apps are isolated: users of one are invisible to the other")
    func appsIsolated() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"shared-id"},"properties":{"tags":{"plan":"pro"}}}"#)
            #expect(created.status == 201)

            let inB = try await client.send(.GET, Paths.user("shared-id", app: TestApps.b.id), authorization: "Key \(TestApps.b.apiKey)")
            #expect(inB.status == 404)
            let keyOfAOnB = try await client.send(.GET, Paths.user("shared-id", app: TestApps.b.id))
            #expect(keyOfAOnB.status == 403)
            #expect(keyOfAOnB.json == Self.accessDenied)

            let createdInB = try await client.send(
                .POST, Paths.users(TestApps.b.id), body: #"{"identity":{"external_id":"shared-id"},"properties":{"tags":{"plan":"free"}}}"#,
                authorization: "Key \(TestApps.b.apiKey)")
            #expect(createdInB.status == 201)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "shared-id")?.tags == ["plan": "pro"])
            #expect(sandbox.user(appID: TestApps.b.id, externalID: "shared-id")?.tags == ["plan": "free"])
            #expect(sandbox.users(appID: TestApps.a.id).count == 1)
            #expect(sandbox.users(appID: TestApps.b.id).count == 1)
        }
    }
}

extension JSONValue {
    /// The elements of an array, or `nil`.
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
