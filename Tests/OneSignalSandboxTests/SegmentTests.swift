import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Segments")
struct SegmentTests {
    @Test("Create, list, view, update and delete a segment")
    func lifecycle() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(
                appID: TestApps.a.id, externalID: "s1", tags: ["vip": "1"], subscriptions: [.init(type: "iOSPush", token: "t")])
            let base = "/apps/\(TestApps.a.id)/segments"
            let created = try await client.send(
                .POST, base, body: #"{"name":"VIPs","filters":[{"field":"tag","key":"vip","relation":"=","value":"1"}]}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"]?.stringValue)

            let duplicate = try await client.send(.POST, base, body: #"{"name":"VIPs","filters":[]}"#)
            #expect(duplicate.status == 409)
            #expect(duplicate.json == json(#"{"errors":["A segment named \"VIPs\" already exists"],"success":false}"#))

            let missingName = try await client.send(.POST, base, body: #"{"filters":[]}"#)
            #expect(missingName.status == 400)
            #expect(missingName.json == json(#"{"errors":["name is required"],"success":false}"#))

            let endsWithOperator = try await client.send(
                .POST, base, body: #"{"name":"Bad","filters":[{"field":"tag","key":"a","relation":"exists"},{"operator":"OR"}]}"#)
            #expect(endsWithOperator.status == 400)

            let listed = try await client.send(.GET, base)
            #expect(listed.status == 200)
            #expect(listed.json["total_count"] == .int(1))
            #expect(listed.json["segments"]?.arrayValue?.first?["name"] == .string("VIPs"))
            #expect(listed.json["segments"]?.arrayValue?.first?["app_id"] == .string(TestApps.a.id))

            let viewed = try await client.send(.GET, "\(base)/\(id)?include-segment-detail=true")
            #expect(viewed.status == 200)
            #expect(viewed.json["subscriber_count"] == .int(1))
            #expect(viewed.json["payload"]?["name"] == .string("VIPs"))

            let updated = try await client.send(.PATCH, "\(base)/\(id)", body: #"{"name":"Very important","description":"tagged vip"}"#)
            #expect(updated.status == 200)
            #expect(updated.json == .object(["success": .bool(true), "id": .string(id)]))
            #expect(sandbox.segments(appID: TestApps.a.id).first?.name == "Very important")
            #expect(sandbox.segments(appID: TestApps.a.id).first?.filters.count == 1)

            let deleted = try await client.send(.DELETE, "\(base)/\(id)")
            #expect(deleted.status == 200)
            #expect(deleted.json == json(#"{"success":true}"#))
            let again = try await client.send(.DELETE, "\(base)/\(id)")
            #expect(again.status == 404)
            #expect(again.json == json(#"{"success":false}"#))
            #expect(sandbox.segments(appID: TestApps.a.id).isEmpty)
        }
    }
}
