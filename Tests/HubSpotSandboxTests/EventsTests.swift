import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: events and automation")
struct EventsTests {
    @Test func sendValidatesAndDeduplicatesByUUID() async throws {
        try await withSandbox { sandbox, client in
            let good = #"{"eventName":"pe12345678_message_clicked","email":"ada@example.com","uuid":"u-1","occurredAt":"2026-11-01T10:00:00Z","properties":{"notification_id":"abc"}}"#
            #expect(try await client.post("/events/v3/send", good).status == 204)
            #expect(try await client.post("/events/v3/send", good).status == 204)
            let events = sandbox.behavioralEvents()
            #expect(events.count == 1)
            #expect(events.first?.properties == ["notification_id": "abc"])
            #expect(events.first?.objectID == sandbox.contact(email: "ada@example.com")?.id)

            let invalid = [
                (#"{"eventName":"pe999_message_clicked","email":"ada@example.com","properties":{}}"#, "pe12345678_"),
                (#"{"eventName":"pe12345678_x","email":"ada@example.com"}"#, "[properties]"),
                (#"{"eventName":"pe12345678_x","properties":{}}"#, "email, utk or objectId"),
                (#"{"eventName":"pe12345678_x","objectId":"424242","properties":{}}"#, "424242"),
                (#"{"eventName":"pe12345678_x","email":"ada@example.com","properties":{"Bad Name":"1"}}"#, "Bad Name"),
            ]
            for (body, fragment) in invalid {
                let response = try await client.post("/events/v3/send", body)
                #expect(response.status == 400, "\(body)")
                #expect(response.json.string("message")?.contains(fragment) == true, "\(response.text)")
            }
            let many = (0..<51).map { "\"p\($0)\":\"v\"" }.joined(separator: ",")
            let tooMany = try await client.post(
                "/events/v3/send", #"{"eventName":"pe12345678_x","email":"ada@example.com","properties":{\#(many)}}"#)
            #expect(tooMany.status == 400)
            #expect(sandbox.behavioralEvents().count == 1)
        }
    }

    @Test func eventDefinitionsCheckOccurrences() async throws {
        try await withSandbox(.init(accessToken: testToken, requireEventDefinitions: true)) { sandbox, client in
            let created = try await client.post(
                "/events/v3/event-definitions",
                #"{"label":"Message clicked","name":"message_clicked","primaryObject":"CONTACT","propertyDefinitions":[{"name":"notification_id","label":"Notification","type":"string"}]}"#)
            #expect(created.status == 201)
            #expect(created.json.string("fullyQualifiedName") == "pe12345678_message_clicked")
            let again = try await client.post(
                "/events/v3/event-definitions", #"{"label":"Message clicked","name":"message_clicked","propertyDefinitions":[]}"#)
            #expect(again.status == 409)
            let listed = try await client.get("/events/v3/event-definitions/message_clicked")
            #expect(listed.json.string("name") == "message_clicked")

            let defined = #"{"eventName":"pe12345678_message_clicked","utk":"u","properties":{"notification_id":"n1","hs_title":"t"}}"#
            #expect(try await client.post("/events/v3/send", defined).status == 204)
            let undefinedProperty = try await client.post(
                "/events/v3/send", #"{"eventName":"pe12345678_message_clicked","utk":"u","properties":{"other":"x"}}"#)
            #expect(undefinedProperty.status == 400)
            #expect(undefinedProperty.json.string("message")?.contains("[other]") == true)
            let undefinedEvent = try await client.post(
                "/events/v3/send", #"{"eventName":"pe12345678_unknown","utk":"u","properties":{}}"#)
            #expect(undefinedEvent.status == 400)
            #expect(sandbox.behavioralEvents().count == 1)
            #expect(sandbox.eventDefinitions().map(\.fullyQualifiedName) == ["pe12345678_message_clicked"])
        }
    }

    @Test func timelineEventsLastWriteWins() async throws {
        try await withSandbox { sandbox, client in
            sandbox.defineTimelineTemplate(TimelineTemplate(id: "1001298", name: "OneSignal message", tokens: ["status"]))
            let body = #"{"eventTemplateId":"1001298","email":"ada@example.com","id":"msg-1","tokens":{"status":"sent"},"extraData":{"url":"https://x"}}"#
            let first = try await client.post("/integrators/timeline/v3/events", body)
            #expect(first.status == 201)
            #expect(first.json.string("objectType") == "contacts")
            let second = try await client.post(
                "/integrators/timeline/v3/events", #"{"eventTemplateId":"1001298","email":"ada@example.com","id":"msg-1","tokens":{"status":"clicked"}}"#)
            #expect(second.status == 201)
            #expect(sandbox.timelineEvents().map(\.tokens) == [["status": "clicked"]])
            let unknownToken = try await client.post(
                "/integrators/timeline/v3/events", #"{"eventTemplateId":"1001298","email":"ada@example.com","tokens":{"other":"x"}}"#)
            #expect(unknownToken.status == 400)
            let unknownTemplate = try await client.post("/integrators/timeline/v3/events", #"{"eventTemplateId":"1","email":"ada@example.com"}"#)
            #expect(unknownTemplate.status == 404)
        }
    }

    @Test func callbackCompletionsAndActionDefinitions() async throws {
        try await withSandbox(.init(accessToken: testToken, developerAPIKey: "dev-key")) { sandbox, client in
            let single = try await client.post(
                "/automation/v4/actions/callbacks/ap-1-2-3-0/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS","notification_id":"n1"}}"#)
            #expect(single.status == 204)
            let batch = try await client.post(
                "/automation/v4/actions/callbacks/complete", #"{"inputs":[{"callbackId":"ap-9","outputFields":{"hs_execution_state":"FAIL_CONTINUE"}}]}"#)
            #expect(batch.status == 204)
            #expect(sandbox.callbackCompletions().map(\.callbackID) == ["ap-1-2-3-0", "ap-9"])
            #expect(sandbox.callbackCompletions().first?.outputFields["notification_id"] == "n1")
            let bad = try await client.post("/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"MAYBE"}}"#)
            #expect(bad.status == 400)

            // Action definitions take the developer API key, not the token.
            let developer = TestClient(baseURL: sandbox.baseURL, token: nil)
            let definition = try await developer.post(
                "/automation/v4/actions/1109808?hapikey=dev-key", #"{"actionUrl":"https://svc.example/hs/actions/send","published":true,"objectTypes":["CONTACT"],"inputFields":[],"functions":[]}"#)
            #expect(definition.status == 201)
            #expect(definition.json.string("revisionId") == "1")
            let id = try #require(definition.json.string("id"))
            let list = try await developer.get("/automation/v4/actions/1109808?hapikey=dev-key")
            #expect(list.json.array("results").compactMap { $0.string("id") } == [id])
        }
    }
}
