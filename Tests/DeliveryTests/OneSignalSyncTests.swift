import Delivery
import Domain
import Foundation
import Mapping
import OneSignal
import OneSignalSandbox
import PQ
import Projections
import EventStore
import SandboxKit
import Testing
import TestSupport

@Suite("OneSignal sync: tags and workflow notifications against the OneSignal sandbox", .serialized)
struct OneSignalSyncTests {
    @Test("a tag changed back after a push with an unknown outcome is sent again")
    func aTagChangedBackAfterAnUnknownOutcomeIsSentAgain() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "aba")
            // (OneSignal's one write per user per second holds: the worker spaces its writes.)
            let worker = harness.worker()
            try await harness.identify("aba", #"{"firstName":"A"}"#)
            try await harness.settle([worker])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "aba")?.tags["first_name"] == "A")
            // B reaches OneSignal, but the answer is lost.
            harness.sandbox.faults.inject(.dropConnection(afterHandling: true), pathPrefix: "/apps/")
            try await harness.identify("aba", #"{"firstName":"B"}"#)
            let deadline = ContinuousClock.now + .seconds(20)
            while harness.sandbox.faults.pendingCount > 0, ContinuousClock.now < deadline {
                try await harness.projection.project()
                _ = try await worker.runOnce()
            }
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "aba")?.tags["first_name"] == "B")
            // Back to A: equal to what OneSignal last acknowledged, yet OneSignal holds B.
            try await harness.identify("aba", #"{"firstName":"A"}"#)
            while harness.sandbox.user(appID: harness.appID, externalID: "aba")?.tags["first_name"] != "A", ContinuousClock.now < deadline {
                try await harness.projection.project()
                _ = try await worker.runOnce()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "aba")?.tags["first_name"] == "A")
        }
    }

    @Test("traits become tags by every rule: renames, strings, email/phone and nested values left out, null removes")
    func tagsFromTraits() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1", tags: ["sdk_tag": "keep"])
            try await harness.identify(
                "u1",
                #"{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com","phone":"+4915112345678","plan":"pro","score":42,"ratio":3.0,"vip":true,"signed_up_at":"2024-05-01T10:00:00Z","address":{"city":"London"},"roles":["a"],"blank":"  ","gone":null}"#
            )
            try await harness.settle([harness.worker()])
            #expect(
                harness.tags("u1") == [
                    "sdk_tag": "keep", "first_name": "Ada", "last_name": "Lovelace", "plan": "pro", "score": "42", "ratio": "3",
                    "vip": "true", "signed_up_at": "1714557600",
                ])
            let dropped = try await harness.projection.count(
                "SELECT count(*) FROM sync_status, jsonb_object_keys(dropped) k WHERE destination = 'onesignal' AND k IN ('email', 'phone', 'address', 'roles')")
            #expect(dropped == 4)
            // One write for the user: it existed (created by the SDK), so the PATCH landed.
            #expect(harness.userWrites().count == 1)

            // Null and blank remove the tag; unchanged tags are not sent again.
            try await harness.identify("u1", #"{"plan":null,"score":42,"vip":""}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("u1")?["plan"] == nil)
            #expect(harness.tags("u1")?["vip"] == nil)
            #expect(harness.tags("u1")?["score"] == "42")
            let last = try #require(harness.userWrites().last)
            let body = try #require(JSONSerialization.jsonObject(with: last.body) as? [String: Any])
            let sent = (body["properties"] as? [String: Any])?["tags"] as? [String: String]
            #expect(sent == ["plan": "", "vip": ""])
            let state = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE destination = 'onesignal' AND state = 'in_sync'")
            #expect(state == 1)
        }
    }

    @Test("track properties become tags when the mapping names them; a later identify of the same tag wins")
    func trackPropertiesToTags() async throws {
        try await OneSignalHarness.run { harness in
            let mapping = try Mapping.parse(
                """
                version: 1
                onesignal:
                  track_properties: [last_order_id, plan]
                """)
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            try await harness.identify("u1", #"{"plan":"free"}"#)
            try await harness.projection.append(
                .track,
                #"{"type":"track","userId":"u1","event":"Order Completed","properties":{"last_order_id":"o-9","plan":"pro","total":12},"messageId":"\#(UUID())"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1") == ["plan": "pro", "last_order_id": "o-9"])
            try await harness.identify("u1", #"{"plan":"team"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1") == ["plan": "team", "last_order_id": "o-9"])
        }
    }

    @Test("an unknown external id is created in one call (never acknowledged: create-or-update); a contact without a userId waits")
    func unknownUsers() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.identify("new-user", #"{"plan":"trial"}"#)
            try await harness.identify(nil, #"{"plan":"anonymous"}"#, anonymousID: "anon-1")
            try await harness.settle([harness.worker()])
            #expect(harness.tags("new-user") == ["plan": "trial"])
            #expect(harness.userWrites().map(\.method) == ["POST"])
            let waiting = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE destination = 'onesignal' AND state = 'waiting'")
            #expect(waiting == 1)
            // The result event carries OneSignal's id; the device row shows the user.
            let devices = try await harness.projection.count("SELECT count(*) FROM devices WHERE external_id = 'new-user' AND onesignal_id IS NOT NULL")
            #expect(devices == 1)
        }
    }

    @Test("a burst of changes to one user is one write; a change right after a write waits out OneSignal's second")
    func coalescing() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            for step in 1...5 { try await harness.identify("u1", #"{"step":\#(step)}"#) }
            try await harness.settle([harness.worker()])
            #expect(harness.userWrites().count == 1)
            #expect(harness.tags("u1")?["step"] == "5")
            try await harness.identify("u1", #"{"step":6}"#)
            try await harness.settle([harness.worker()])
            let writes = harness.userWrites()
            #expect(writes.count == 2)
            #expect(writes[1].receivedAt.timeIntervalSince(writes[0].receivedAt) >= 1.0)
            #expect(harness.sandbox.rateLimitedResponses == 0)
            #expect(harness.tags("u1")?["step"] == "6")
        }
    }

    @Test("the tag limit is a budget: tag_priority first, then audiences, then by name; what is left out is recorded and removed")
    func tagLimitBudget() async throws {
        try await OneSignalHarness.run(tagLimit: 3) { harness in
            let mapping = try Mapping.parse(
                """
                version: 1
                onesignal:
                  tag_limit: 3
                  tag_priority: [plan]
                """)
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            try await harness.identify("u1", #"{"plan":"pro","a":"1","b":"2","c":"3"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1") == ["plan": "pro", "a": "1", "b": "2"])
            let dropped = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE destination = 'onesignal' AND dropped ? 'c' AND dropped->>'c' LIKE 'over the tag limit of 3%'")
            #expect(dropped == 1)
            // An audience tag outranks trait tags: 'b' gives way, and HubSignal removes it from OneSignal.
            try await harness.projection.append(
                .identify,
                #"{"type":"identify","userId":"u1","traits":{"vip_users":true},"context":{"personas":{"computation_key":"vip_users","computation_class":"audience"}},"messageId":"\#(UUID())"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1") == ["plan": "pro", "a": "1", "vip_users": "true"])
        }
    }

    @Test("with onesignal_segments, each audience also becomes a OneSignal segment on its tag, created once")
    func audienceSegments() async throws {
        try await OneSignalHarness.run { harness in
            let mapping = try Mapping.parse("version: 1\naudiences: { onesignal_tag_prefix: aud_, onesignal_segments: true }\n")
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u2")
            for user in ["u1", "u2"] {
                try await harness.projection.append(
                    .identify,
                    #"{"type":"identify","userId":"\#(user)","traits":{"vip_users":true},"context":{"personas":{"computation_key":"vip_users","computation_class":"audience"}},"messageId":"\#(UUID())"}"#)
            }
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            let segments = harness.sandbox.segments(appID: harness.appID)
            #expect(segments.map(\.name) == ["aud_vip_users"])
            #expect(harness.sandbox.requests.matching(method: "POST", path: "/apps/\(harness.appID)/segments").count == 1)
            #expect(harness.tags("u1")?["aud_vip_users"] == "true")
            let recorded = try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.segment_created'")
            #expect(recorded == 1)
        }
    }

    @Test("OneSignal's own tag limit (tags set outside HubSignal) is a dead letter with the reason")
    func tagLimitRefusal() async throws {
        try await OneSignalHarness.run(tagLimit: 2) { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1", tags: ["sdk_a": "1", "sdk_b": "2"])
            try await harness.identify("u1", #"{"plan":"pro"}"#)
            try await harness.settle([harness.worker()])
            let failed = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE destination = 'onesignal' AND state = 'failed' AND reason LIKE '%tag limit%'")
            #expect(failed == 1)
            let dead = try await harness.projection.count("SELECT count(*) FROM deliveries WHERE destination = 'onesignal' AND state = 'dead'")
            #expect(dead == 1)
        }
    }

    @Test("429s, 5xx, timeouts and dropped connections are retried until OneSignal holds the tags")
    func transientFailures() async throws {
        try await OneSignalHarness.run { harness in
            for user in ["u1", "u2", "u3", "u4"] { try harness.sandbox.seedUser(appID: harness.appID, externalID: user) }
            harness.sandbox.faults.inject(.status(429, body: Data(#"{"errors":["API rate limit exceeded"]}"#.utf8), headers: [("Retry-After", "1")]), pathPrefix: "/apps")
            harness.sandbox.faults.inject(.status(503, body: Data(#"{"errors":["Service temporarily unavailable"]}"#.utf8)), pathPrefix: "/apps")
            harness.sandbox.faults.inject(.timeout(.seconds(3)), pathPrefix: "/apps")
            harness.sandbox.faults.inject(.dropConnection(afterHandling: true), pathPrefix: "/apps")
            for user in ["u1", "u2", "u3", "u4"] { try await harness.identify(user, #"{"plan":"pro","who":"\#(user)"}"#) }
            let worker = harness.worker(client: harness.oneSignalClient(timeout: .seconds(1)))
            try await harness.settle([worker], timeout: .seconds(40))
            for user in ["u1", "u2", "u3", "u4"] { #expect(harness.tags(user) == ["plan": "pro", "who": user]) }
            #expect(harness.sandbox.faults.pendingCount == 0)
        }
    }

    @Test("HubSpot contact changes of mapped properties become tags; HubSignal's own pushes echoed back do not")
    func hubSpotToOneSignal() async throws {
        try await OneSignalHarness.run { harness in
            let mapping = try Mapping.parse(
                """
                version: 1
                hubspot_to_onesignal:
                  properties: { lifecyclestage: lifecycle, plan: plan }
                """)
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com","plan":"pro"}"#)
            // HubSpot acknowledged plan=pro (HubSignal pushed it), and knows the contact as 501.
            try await harness.projection.append(
                .hubSpotContactSynced,
                #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"u1@example.com","plan":"pro"}}"#, source: .hubsignal)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            let before = harness.userWrites().count
            // The echo of HubSignal's own push: no change.
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("plan", "pro"), source: .hubspot)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.userWrites().count == before)
            // A change made in HubSpot: the tag follows.
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("lifecyclestage", "customer"), source: .hubspot)
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("plan", "enterprise"), source: .hubspot)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1") == ["plan": "enterprise", "lifecycle": "customer"])
            // Nothing went back to HubSpot: the HubSpot desired values still come from the traits only.
            let hubSpotPending = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE destination = 'hubspot' AND state = 'pending'")
            #expect(hubSpotPending == 0)
        }
    }

    @Test("an echo of HubSignal's own push after a change made in HubSpot changes nothing: the tag keeps HubSpot's value")
    func anEchoAfterAHubSpotChangeKeepsTheTag() async throws {
        try await OneSignalHarness.run { harness in
            let mapping = try Mapping.parse(
                """
                version: 1
                hubspot_to_onesignal:
                  properties: { firstname: hs_firstname }
                """)
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com","firstName":"Ada"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced,
                #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"u1@example.com","firstname":"Ada"}}"#,
                source: .hubsignal)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            // A change made in HubSpot becomes the tag.
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("firstname", "Augusta"), source: .hubspot)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1")?["hs_firstname"] == "Augusta")
            let writes = harness.userWrites().count
            let desired: PQQuery = """
                SELECT count(*) FROM sync_status WHERE destination = 'onesignal' AND desired->>'hs_firstname' = 'Augusta'
                """

            // Then HubSpot reports the value HubSignal pushed before (its own echo, delivered late): nothing changes.
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("firstname", "Ada"), source: .hubspot)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1")?["hs_firstname"] == "Augusta")
            #expect(harness.userWrites().count == writes)
            #expect(try await harness.projection.count(desired) == 1)

            // A new trait HubSignal pushes to HubSpot, echoed before HubSignal records HubSpot's acknowledgement: the
            // trait's own tag changes, the tag from HubSpot still does not.
            try await harness.identify("u1", #"{"firstName":"Grace"}"#)
            try await harness.projection.append(.hubSpotContactPropertyChange, Self.propertyChange("firstname", "Grace"), source: .hubspot)
            try await harness.projection.append(
                .hubSpotContactSynced,
                #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"u1@example.com","firstname":"Grace"}}"#,
                source: .hubsignal)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("u1")?["first_name"] == "Grace")
            #expect(harness.tags("u1")?["hs_firstname"] == "Augusta")
            #expect(try await harness.projection.count(desired) == 1)
        }
    }

    static func propertyChange(_ name: String, _ value: String) -> String {
        #"{"eventId":\#(Int.random(in: 1...1_000_000_000)),"subscriptionType":"contact.propertyChange","objectId":501,"propertyName":"\#(name)","propertyValue":"\#(value)","occurredAt":1790000000000,"portalId":1}"#
    }

    @Test("an edit-tags workflow action sets tags on the contact's OneSignal user; a later identify takes a tag back")
    func editTagsAction() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com","plan":"pro"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"u1@example.com"}}"#,
                source: .hubsignal)
            try await harness.workflowAction(
                "edit_tags", callbackID: "ap-1-2-3-0", objectID: "501", inputs: #"{"tags":"{\"plan\":\"gold\",\"score\":7,\"old\":null}"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("u1") == ["plan": "gold", "score": "7"])
            try await harness.identify("u1", #"{"plan":"platinum"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("u1") == ["plan": "platinum", "score": "7"])
        }
    }

    @Test("a workflow notification is sent exactly once under retries, recorded before and after, and completes the action")
    func workflowNotificationOnce() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(
                appID: harness.appID, externalID: "u1", subscriptions: [.init(type: "iOSPush", token: String(repeating: "a", count: 64))])
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"u1@example.com"}}"#,
                source: .hubsignal)
            let worker = harness.worker(client: harness.oneSignalClient(timeout: .seconds(1)))
            try await harness.projection.project()
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-1-99-3-0", objectID: "501",
                inputs: #"{"heading":"Hello","content":"Your order shipped","url":"https://example.com/o/1"}"#)
            // HubSpot retries the same callback: the log keeps one action.
            let again = try await harness.projection.store.append([
                NewEvent(
                    stream: "hubspot-contact:501", type: .sendNotification, source: .hubspot, idempotencyKey: "ap-1-99-3-0",
                    occurredAt: Date(), payload: PQJSONB(bytes: Array(#"{"callbackId":"ap-1-99-3-0"}"#.utf8)))
            ])
            #expect(again.first?.isDuplicate == true)
            // OneSignal applies the first send but the connection drops: the retry must not send twice.
            harness.sandbox.faults.inject(.dropConnection(afterHandling: true), pathPrefix: "/notifications")
            try await harness.settle([worker])
            let notifications = harness.sandbox.notifications(appID: harness.appID)
            #expect(notifications.count == 1)
            #expect(notifications.first?.recipientExternalIDs == ["u1"])
            #expect(notifications.first?.headings == ["en": "Hello"])
            #expect(notifications.first?.contents == ["en": "Your order shipped"])
            let types = try await harness.projection.client.query(
                "SELECT type FROM events WHERE type LIKE 'hubsignal.%notification%' OR type LIKE 'hubsignal.hubspot.action%' ORDER BY position")
                .map { try $0.decode(String.self, at: 0) }
            #expect(types == ["hubsignal.onesignal.notification_requested", "hubsignal.onesignal.notification_sent", "hubsignal.hubspot.action_completed"])
            let completion = try #require(harness.hubSpot.callbackCompletions().first)
            #expect(completion.callbackID == "ap-1-99-3-0")
            #expect(completion.outputFields["hs_execution_state"] == "SUCCESS")
            #expect(completion.outputFields["notification_id"] == notifications.first?.id)

            // A rebuild of the read models sends nothing again.
            try await ProjectionRebuild(store: harness.projection.store, mapping: .defaults, logger: TestPostgres.logger).run()
            try await harness.settle([harness.worker()])
            #expect(harness.sandbox.notifications(appID: harness.appID).count == 1)
        }
    }

    @Test("a notification for a contact OneSignal cannot reach fails the action with the reason")
    func workflowNotificationWithoutRecipient() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-1-7-3-0", objectID: "777", inputs: #"{"content":"Hi"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.sandbox.notifications(appID: harness.appID).isEmpty)
            let completion = try #require(harness.hubSpot.callbackCompletions().first)
            #expect(completion.outputFields["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(completion.outputFields["error_message"]?.contains("no OneSignal external id") == true)
        }
    }
}
