import Delivery
import Domain
import EventStore
import Foundation
import Mapping
import OneSignal
import OneSignalSandbox
import PQ
import Testing
import TestSupport

/// The "Edit OneSignal tags" workflow action honours its inputs (`app`, `external_id`, `email`, else the contact's
/// match) and tells HubSpot the real outcome through the callback: the tags applied, or `FAIL_CONTINUE` with the reason.
@Suite("Edit-tags workflow actions: every input honoured, the real outcome reported", .serialized)
struct EditTagsActionTests {
    static func twoApps() throws -> Mapping {
        try OneSignalAppsTests.mapping("version: 1\n")
    }

    static func events(_ harness: OneSignalHarness, _ type: EventType) async throws -> [JSONValue] {
        try await harness.projection.strings("SELECT payload::text FROM events WHERE type = \(type.rawValue) ORDER BY position")
            .map { try JSONValue.parse(Array($0.utf8)) }
    }

    @Test("app and external_id pick exactly that user in that app; HubSpot is told SUCCESS once OneSignal applied them")
    func appAndExternalID() async throws {
        try await OneSignalHarness.run(twoApps: true) { harness in
            let mapping = try Self.twoApps()
            let beta = OneSignalHarness.betaAppID
            for app in [harness.appID, beta] {
                for user in ["u1", "u2"] { try harness.sandbox.seedUser(appID: app, externalID: user, tags: ["plan": "free"]) }
            }
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{}}"#, source: .hubsignal)
            let workers = [
                harness.worker(mapping: mapping, client: harness.oneSignalClient(), app: "acme"),
                harness.worker(mapping: mapping, client: harness.oneSignalClient(beta: true), app: "beta"),
            ]
            try await harness.settle(workers, mapping: mapping)
            try await harness.workflowAction(
                "edit_tags", callbackID: "ap-tags-1", objectID: "501",
                inputs: #"{"tags":"{\"plan\":\"gold\",\"vip\":true}","app":"beta","external_id":"u2"}"#)
            try await harness.settle(workers, mapping: mapping)
            #expect(harness.sandbox.user(appID: beta, externalID: "u2")?.tags == ["plan": "gold", "vip": "true"])
            // Not the contact's own user, not the other app.
            #expect(harness.sandbox.user(appID: beta, externalID: "u1")?.tags == ["plan": "free"])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "u2")?.tags == ["plan": "free"])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "u1")?.tags == ["plan": "free"])
            #expect(harness.hubSpot.callbackCompletions().map(\.outputFields) == [["hs_execution_state": "SUCCESS"]])
            let edited = try await Self.events(harness, .oneSignalTagsEdited)
            #expect(edited.count == 1)
            #expect(edited.first?["app"]?.stringValue == "beta")
            #expect(edited.first?["externalId"]?.stringValue == "u2")
            #expect(edited.first?["tags"] == .object(["plan": .string("gold"), "vip": .string("true")]))

            // Without inputs: the contact's own user in the first app.
            try await harness.workflowAction("edit_tags", callbackID: "ap-tags-2", objectID: "501", inputs: #"{"tags":"{\"plan\":null}"}"#)
            try await harness.settle(workers, mapping: mapping)
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "u1")?.tags == [:])
            #expect(harness.sandbox.user(appID: beta, externalID: "u1")?.tags == ["plan": "free"])
        }
    }

    @Test("email picks the contact with that email, whatever HubSpot contact the action ran for")
    func emailInput() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u3")
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u4")
            try await harness.identify("u3", #"{"email":"grace@example.com"}"#)
            let other = try await harness.identify("u4", #"{"email":"ada@example.com"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"c_\#(other)","hubspotId":"501","properties":{}}"#, source: .hubsignal)
            let worker = harness.worker()
            try await harness.settle([worker])
            try await harness.workflowAction(
                "edit_tags", callbackID: "ap-tags-3", objectID: "501", inputs: #"{"tags":{"tier":"2"},"email":"Grace@Example.com"}"#)
            try await harness.settle([worker])
            #expect(harness.tags("u3") == ["tier": "2"])
            #expect(harness.tags("u4") == [:])
            #expect(harness.hubSpot.callbackCompletions().map(\.outputFields) == [["hs_execution_state": "SUCCESS"]])
        }
    }

    @Test("a contact with no OneSignal match, or a user OneSignal does not have, fails in HubSpot with the reason; nothing is created")
    func unmatchedFails() async throws {
        try await OneSignalHarness.run { harness in
            let worker = harness.worker()
            // A contact HubSignal knows only from HubSpot: no userId, so no external id (no external_id_property).
            try await harness.projection.append(
                .hubSpotContactPropertyChange,
                #"{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":777,"propertyName":"email","propertyValue":"hs-only@example.com","occurredAt":1790000000000,"portalId":1}"#,
                source: .hubspot)
            try await harness.workflowAction("edit_tags", callbackID: "ap-tags-4", objectID: "777", inputs: #"{"tags":"{\"plan\":\"gold\"}"}"#)
            try await harness.workflowAction(
                "edit_tags", callbackID: "ap-tags-5", objectID: "777", inputs: #"{"tags":"{\"plan\":\"gold\"}","external_id":"ghost"}"#)
            try await harness.settle([worker])
            let completions = Dictionary(uniqueKeysWithValues: harness.hubSpot.callbackCompletions().map { ($0.callbackID, $0.outputFields) })
            #expect(completions["ap-tags-4"]?["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(completions["ap-tags-4"]?["error_message"]?.contains("matches no OneSignal user") == true)
            #expect(completions["ap-tags-5"]?["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(completions["ap-tags-5"]?["error_message"]?.contains("has no user with external id 'ghost'") == true)
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "ghost") == nil)
            #expect(harness.userWrites().allSatisfy { $0.method == "PATCH" }, "no user is created")
            let failed = try await Self.events(harness, .oneSignalTagsEditFailed)
            #expect(failed.count == 2)
            #expect(try await Self.events(harness, .oneSignalTagsEdited).isEmpty)
        }
    }

    @Test("OneSignal refusing the tags (over the plan's tag limit) fails in HubSpot with OneSignal's reason")
    func refusedFails() async throws {
        try await OneSignalHarness.run(tagLimit: 2) { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u5", tags: ["a": "1", "b": "2"])
            let worker = harness.worker()
            try await harness.workflowAction(
                "edit_tags", callbackID: "ap-tags-6", objectID: "888", inputs: #"{"tags":"{\"c\":\"3\"}","external_id":"u5"}"#)
            try await harness.settle([worker])
            let completion = harness.hubSpot.callbackCompletions().first
            #expect(completion?.outputFields["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(completion?.outputFields["error_message"]?.contains("tag limit") == true)
            #expect(harness.tags("u5") == ["a": "1", "b": "2"])
        }
    }
}
