import Foundation
import HubSpotSandbox
import Testing

@Suite("HubSpot sandbox: events and automation")
struct EventsTests {
    /// A repeated `uuid` is HubSpot's idempotency key (the send-event guide): the sandbox answers it `204` like the first
    /// and keeps one occurrence, so a retry after a lost answer is harmless. A sandbox that stored every send would count
    /// two.
    @Test func sendValidatesAndDeduplicatesByUUID() async throws {
        try await withSandbox { sandbox, client in
            sandbox.defineBehavioralEvent(name: "message_clicked", propertyNames: ["notification_id"])
            sandbox.defineBehavioralEvent(name: "x")
            let good = #"{"eventName":"pe12345678_message_clicked","email":"ada@example.com","uuid":"u-1","occurredAt":"2026-11-01T10:00:00Z","properties":{"notification_id":"abc"}}"#
            #expect(try await client.post("/events/v3/send", good).status == 204)
            #expect(try await client.post("/events/v3/send", good).status == 204)
            let events = sandbox.behavioralEvents()
            #expect(events.count == 1)
            #expect(events.first?.properties == ["notification_id": "abc"])
            #expect(events.first?.objectID == sandbox.contact(email: "ada@example.com")?.id)
            // Another uuid is another occurrence.
            let other = good.replacingOccurrences(of: #""uuid":"u-1""#, with: #""uuid":"u-2""#)
            #expect(try await client.post("/events/v3/send", other).status == 204)
            #expect(sandbox.behavioralEvents().count == 2)

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
            #expect(sandbox.behavioralEvents().count == 2)
        }
    }

    /// Strict by default, as HubSpot: an event without a definition is refused (a lenient sandbox took it).
    @Test func anEventWithoutADefinitionIsRefusedByDefault() async throws {
        try await withSandbox { sandbox, client in
            let undefined = try await client.post(
                "/events/v3/send", #"{"eventName":"pe12345678_order_completed","email":"ada@example.com","properties":{}}"#)
            #expect(undefined.status == 400)
            #expect(undefined.json.string("message")?.contains("pe12345678_order_completed does not exist") == true)
            #expect(sandbox.behavioralEvents().isEmpty)
            let batch = try await client.post(
                "/events/v3/send/batch", #"{"inputs":[{"eventName":"pe12345678_order_completed","email":"ada@example.com","properties":{}}]}"#)
            #expect(batch.status == 400)
        }
        // The lenient setting (tests of other things only) takes it: the check above is what strictness adds.
        try await withSandbox(.init(accessToken: testToken, requireEventDefinitions: false)) { sandbox, client in
            let undefined = try await client.post(
                "/events/v3/send", #"{"eventName":"pe12345678_order_completed","email":"ada@example.com","properties":{}}"#)
            #expect(undefined.status == 204)
            #expect(sandbox.behavioralEvents().count == 1)
        }
    }

    @Test func eventDefinitionsCheckOccurrences() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.post(
                "/events/v3/event-definitions",
                #"{"label":"Message clicked","name":"message_clicked","primaryObject":"CONTACT","includeDefaultProperties":true,"propertyDefinitions":[{"name":"notification_id","label":"Notification","type":"string"}]}"#)
            #expect(created.status == 201)
            #expect(created.json.string("fullyQualifiedName") == "pe12345678_message_clicked")
            #expect(created.json.string("objectTypeId") == "0-1")
            #expect(created.json.array("properties").contains { $0.string("name") == "notification_id" && $0.string("type") == "string" })
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

    /// A property is added to a definition (`201`, then `409` for the same name), after which occurrences may carry it;
    /// EVDEF-v3's event property types are string, number, enumeration and datetime: `bool` is refused, an enumeration
    /// needs options.
    @Test func propertiesAreAddedAndTyped() async throws {
        try await withSandbox { sandbox, client in
            sandbox.defineBehavioralEvent(name: "order_completed")
            let occurrence = #"{"eventName":"pe12345678_order_completed","utk":"u","properties":{"total":"42"}}"#
            #expect(try await client.post("/events/v3/send", occurrence).status == 400)
            let added = try await client.post(
                "/events/v3/event-definitions/order_completed/property", #"{"name":"total","label":"Total","type":"number"}"#)
            #expect(added.status == 201)
            #expect(added.json.string("type") == "number")
            let repeated = try await client.post(
                "/events/v3/event-definitions/order_completed/property", #"{"name":"total","label":"Total","type":"number"}"#)
            #expect(repeated.status == 409)
            let unknownDefinition = try await client.post(
                "/events/v3/event-definitions/nothing/property", #"{"name":"total","label":"Total","type":"number"}"#)
            #expect(unknownDefinition.status == 404)
            #expect(try await client.post("/events/v3/send", occurrence).status == 204)

            let boolean = try await client.post(
                "/events/v3/event-definitions/order_completed/property", #"{"name":"gift","label":"Gift","type":"bool"}"#)
            #expect(boolean.status == 400)
            let enumerationWithoutOptions = try await client.post(
                "/events/v3/event-definitions/order_completed/property", #"{"name":"gift","label":"Gift","type":"enumeration"}"#)
            #expect(enumerationWithoutOptions.status == 400)
            let enumeration = try await client.post(
                "/events/v3/event-definitions/order_completed/property",
                #"{"name":"gift","label":"Gift","type":"enumeration","options":[{"label":"True","value":"true","displayOrder":0,"hidden":false},{"label":"False","value":"false","displayOrder":1,"hidden":false}]}"#)
            #expect(enumeration.status == 201)
            #expect(sandbox.eventDefinitions().first?.propertyNames == ["gift", "total"])
        }
    }

    /// Values must suit their property's type: a lenient sandbox (names only) takes "abc" for a number.
    @Test func valuesMustSuitTheirPropertysType() async throws {
        try await withSandbox { sandbox, client in
            let definition = #"{"label":"Order completed","name":"order_completed","propertyDefinitions":[{"name":"total","label":"Total","type":"number"},{"name":"at","label":"At","type":"datetime"},{"name":"gift","label":"Gift","type":"enumeration","options":[{"label":"True","value":"true","displayOrder":0,"hidden":false}]},{"name":"note","label":"Note","type":"string"}]}"#
            #expect(try await client.post("/events/v3/event-definitions", definition).status == 201)
            let cases: [(properties: String, status: Int)] = [
                (#"{"total":"19.5","at":"2026-12-06T10:00:00Z","gift":"true","note":"42"}"#, 204),
                (#"{"total":7,"at":"1765015200000"}"#, 204),
                (#"{"total":"abc"}"#, 400),
                (#"{"at":"yesterday"}"#, 400),
                (#"{"gift":"maybe"}"#, 400),
            ]
            for (properties, status) in cases {
                let body = #"{"eventName":"pe12345678_order_completed","utk":"u","properties":"# + properties + "}"
                let response = try await client.post("/events/v3/send", body)
                #expect(response.status == status, "\(properties): \(response.text)")
            }
            #expect(sandbox.behavioralEvents().count == 2)
        }
    }

    /// The list pages (`limit`, `paging.next.after`) and carries properties only with `includeProperties=true`.
    @Test func definitionsAreListedInPages() async throws {
        try await withSandbox { sandbox, client in
            for name in ["a_event", "b_event", "c_event"] { sandbox.defineBehavioralEvent(name: name, propertyNames: ["p"]) }
            let first = try await client.get("/events/v3/event-definitions?limit=2&includeProperties=true")
            #expect(first.json.array("results").compactMap { $0.string("name") } == ["a_event", "b_event"])
            #expect(first.json.array("results").first?.array("properties").contains { $0.string("name") == "p" } == true)
            let after = try #require((first.json["paging"] as? [String: Any]).flatMap { ($0["next"] as? [String: Any])?["after"] as? String })
            let second = try await client.get("/events/v3/event-definitions?limit=2&after=\(after)")
            #expect(second.json.array("results").compactMap { $0.string("name") } == ["c_event"])
            #expect(second.json["paging"] == nil)
            #expect(second.json.array("results").first?.array("properties").isEmpty == true)
        }
    }

    /// A repeated timeline event id is answered `409` and the first occurrence stays (TL-26: occurrences are
    /// immutable); a sandbox where the last write wins answers 201 and changes it.
    @Test func aRepeatedTimelineEventIDIsAConflict() async throws {
        try await withSandbox { sandbox, client in
            sandbox.defineTimelineTemplate(TimelineTemplate(id: "1001298", name: "OneSignal message", tokens: ["status"]))
            let body = #"{"eventTemplateId":"1001298","email":"ada@example.com","id":"msg-1","tokens":{"status":"sent"},"extraData":{"url":"https://x"}}"#
            let first = try await client.post("/integrators/timeline/v3/events", body)
            #expect(first.status == 201)
            #expect(first.json.string("objectType") == "contacts")
            let second = try await client.post(
                "/integrators/timeline/v3/events", #"{"eventTemplateId":"1001298","email":"ada@example.com","id":"msg-1","tokens":{"status":"clicked"}}"#)
            #expect(second.status == 409)
            #expect(second.json.string("message")?.contains("Occurrences are immutable") == true)
            #expect(sandbox.timelineEvents().map(\.tokens) == [["status": "sent"]])
            let unknownToken = try await client.post(
                "/integrators/timeline/v3/events", #"{"eventTemplateId":"1001298","email":"ada@example.com","tokens":{"other":"x"}}"#)
            #expect(unknownToken.status == 400)
            let unknownTemplate = try await client.post("/integrators/timeline/v3/events", #"{"eventTemplateId":"1","email":"ada@example.com"}"#)
            #expect(unknownTemplate.status == 404)
            #expect(sandbox.timelineEvents().count == 1)
        }
    }

    /// Timeline templates are app-level (TL-v3's developer_hapikey): created and read with the developer key, refused
    /// with an account token; TimelineEventTemplateCreateRequest requires name, objectType and tokens.
    @Test func timelineTemplatesTakeTheDeveloperKey() async throws {
        try await withSandbox(.init(accessToken: testToken, developerAPIKey: "dev-key")) { sandbox, client in
            let withToken = try await client.post(
                "/integrators/timeline/v3/1109808/event-templates", #"{"name":"OneSignal message","objectType":"contacts","tokens":[]}"#)
            #expect(withToken.status == 401)
            let developer = TestClient(baseURL: sandbox.baseURL, token: nil)
            let incomplete = try await developer.post(
                "/integrators/timeline/v3/1109808/event-templates?hapikey=dev-key", #"{"name":"OneSignal message","objectType":"contacts"}"#)
            #expect(incomplete.status == 400)
            let created = try await developer.post(
                "/integrators/timeline/v3/1109808/event-templates?hapikey=dev-key",
                #"{"name":"OneSignal message","objectType":"contacts","tokens":[{"name":"kind","label":"Kind","type":"string"}]}"#)
            #expect(created.status == 201)
            let id = try #require(created.json.string("id"))
            let listed = try await developer.get("/integrators/timeline/v3/1109808/event-templates?hapikey=dev-key")
            #expect(listed.json.array("results").compactMap { $0.string("id") } == [id])
            #expect(try await developer.get("/integrators/timeline/v3/42/event-templates/\(id)?hapikey=dev-key").status == 404)
            // Events of the new template are accepted; its tokens are checked.
            let event = try await client.post(
                "/integrators/timeline/v3/events", #"{"eventTemplateId":"\#(id)","email":"ada@example.com","id":"e-1","tokens":{"kind":"clicked"}}"#)
            #expect(event.status == 201)
        }
    }

    @Test func callbackCompletionsAndActionDefinitions() async throws {
        try await withSandbox(.init(accessToken: testToken, developerAPIKey: "dev-key")) { sandbox, client in
            let single = try await client.post(
                "/automation/v4/actions/callbacks/ap-1-2-3-0/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS","notification_id":"n1"},"typedOutputs":{"hs_execution_state":"SUCCESS","notification_id":"n1"}}"#)
            #expect(single.status == 204)
            let batch = try await client.post(
                "/automation/v4/actions/callbacks/complete", #"{"inputs":[{"callbackId":"ap-9","outputFields":{"hs_execution_state":"FAIL_CONTINUE"},"typedOutputs":{}}]}"#)
            #expect(batch.status == 204)
            #expect(sandbox.callbackCompletions().map(\.callbackID) == ["ap-1-2-3-0", "ap-9"])
            #expect(sandbox.callbackCompletions().first?.outputFields["notification_id"] == "n1")
            let bad = try await client.post("/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"MAYBE"},"typedOutputs":{}}"#)
            #expect(bad.status == 400)

            // Action definitions take the developer API key, not the token.
            let developer = TestClient(baseURL: sandbox.baseURL, token: nil)
            let definition = try await developer.post(
                "/automation/v4/actions/1109808?hapikey=dev-key", #"{"actionUrl":"https://svc.example/hs/actions/send","published":true,"objectTypes":["CONTACT"],"inputFields":[],"labels":{"en":{"actionName":"Send"}},"functions":[]}"#)
            #expect(definition.status == 201)
            #expect(definition.json.string("revisionId") == "1")
            let id = try #require(definition.json.string("id"))
            let list = try await developer.get("/automation/v4/actions/1109808?hapikey=dev-key")
            #expect(list.json.array("results").compactMap { $0.string("id") } == [id])
        }
    }
}
