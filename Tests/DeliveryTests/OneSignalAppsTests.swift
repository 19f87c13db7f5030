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

@Suite("Several OneSignal apps: tags routed by rule, a workflow choosing its app, each app's own tag limit", .serialized)
struct OneSignalAppsTests {
    static func mapping(_ yaml: String) throws -> Mapping {
        try Mapping.parse(yaml).targeting(oneSignalApps: [
            OneSignalAppTarget(name: "acme", appID: "8250eaf6-1a58-489e-b136-7c74a864b434"),
            OneSignalAppTarget(name: "beta", appID: OneSignalHarness.betaAppID, tagLimit: 2),
        ])
    }

    @Test("tags go to the apps the mapping's rule picks by a trait, with each app's tag limit")
    func tagsRoutedByTrait() async throws {
        try await OneSignalHarness.run(twoApps: true) { harness in
            let mapping = try Self.mapping(
                """
                version: 1
                onesignal:
                  apps: { by_trait: { trait: brand, apps: { acme: [acme], both: [acme, beta], "*": [beta] } } }
                """)
            let workers = [harness.worker(mapping: mapping, app: "acme"), harness.worker(mapping: mapping, app: "beta")]
            try await harness.identify("a1", #"{"brand":"acme","plan":"pro"}"#)
            try await harness.identify("b1", #"{"brand":"other","plan":"pro","city":"Oslo","zone":"n"}"#)
            try await harness.identify("c1", #"{"brand":"both","plan":"team"}"#)
            try await harness.settle(workers, mapping: mapping)
            let beta = OneSignalHarness.betaAppID
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "a1")?.tags == ["brand": "acme", "plan": "pro"])
            #expect(harness.sandbox.user(appID: beta, externalID: "a1") == nil)
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "b1") == nil)
            // beta's plan allows 2 tags: brand and city (by name), the rest recorded as dropped.
            #expect(harness.sandbox.user(appID: beta, externalID: "b1")?.tags == ["brand": "other", "city": "Oslo"])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "c1")?.tags == ["brand": "both", "plan": "team"])
            #expect(harness.sandbox.user(appID: beta, externalID: "c1")?.tags == ["brand": "both", "plan": "team"])
            let rows = try await harness.projection.strings(
                "SELECT app || ':' || state FROM sync_status WHERE destination = 'onesignal' ORDER BY contact_id, app")
            #expect(rows == ["acme:in_sync", "beta:in_sync", "acme:in_sync", "beta:in_sync"])
            let dropped = try await harness.projection.count(
                "SELECT count(*) FROM sync_status WHERE app = 'beta' AND dropped ? 'plan' AND dropped ? 'zone'")
            #expect(dropped == 1)
            // A contact that moves to another brand leaves the first app's rows (its tags there stay as they were).
            try await harness.identify("a1", #"{"brand":"other"}"#)
            try await harness.settle(workers, mapping: mapping)
            #expect(try await harness.projection.strings("SELECT app FROM sync_status s JOIN contacts c USING (contact_id) WHERE c.user_id = 'a1' AND destination = 'onesignal'") == ["beta"])
            #expect(harness.sandbox.user(appID: beta, externalID: "a1")?.tags == ["brand": "other", "plan": "pro"])
        }
    }

    @Test("tags go to the apps the write key that sent the events picks")
    func tagsRoutedByWriteKey() async throws {
        try await OneSignalHarness.run(twoApps: true) { harness in
            let mapping = try Self.mapping(
                """
                version: 1
                onesignal:
                  apps: { by_write_key: { wk_0123456789ab: [beta], "*": [acme] } }
                """)
            for (user, key) in [("w1", "wk_0123456789ab"), ("w2", "wk_ffffffffffff")] {
                try await harness.projection.store.append([
                    NewEvent(
                        stream: "user:\(user)", type: .identify, source: .segment, idempotencyKey: UUID().uuidString,
                        occurredAt: Date(), payload: PQJSONB(#"{"type":"identify","userId":"\#(user)","traits":{"plan":"pro"}}"#),
                        metadata: PQJSONB(#"{"writeKeyID":"\#(key)"}"#))
                ])
            }
            let workers = [harness.worker(mapping: mapping, app: "acme"), harness.worker(mapping: mapping, app: "beta")]
            try await harness.settle(workers, mapping: mapping)
            #expect(harness.sandbox.user(appID: OneSignalHarness.betaAppID, externalID: "w1")?.tags == ["plan": "pro"])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "w1") == nil)
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "w2")?.tags == ["plan": "pro"])
            #expect(harness.sandbox.user(appID: OneSignalHarness.betaAppID, externalID: "w2") == nil)
        }
    }

    @Test("a workflow action sends through the app it names, the default app otherwise")
    func workflowChoosesApp() async throws {
        try await OneSignalHarness.run(twoApps: true) { harness in
            let mapping = try Self.mapping("version: 1\n")
            let beta = OneSignalHarness.betaAppID
            for app in [harness.appID, beta] {
                try harness.sandbox.seedUser(appID: app, externalID: "u1", subscriptions: [.init(type: "AndroidPush", token: "token-\(app)")])
            }
            let contact = try await harness.identify("u1", #"{"email":"u1@example.com"}"#)
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{}}"#, source: .hubsignal)
            let workers = [
                harness.worker(mapping: mapping, client: harness.oneSignalClient(), app: "acme"),
                harness.worker(mapping: mapping, client: harness.oneSignalClient(beta: true), app: "beta"),
            ]
            try await harness.projection.project(mapping)
            try await harness.workflowAction("send_notification", callbackID: "ap-1", objectID: "501", inputs: #"{"content":"to beta","app":"beta"}"#)
            try await harness.workflowAction("send_notification", callbackID: "ap-2", objectID: "501", inputs: #"{"content":"to default"}"#)
            try await harness.settle(workers, mapping: mapping)
            #expect(harness.sandbox.notifications(appID: beta).map(\.contents) == [["en": "to beta"]])
            #expect(harness.sandbox.notifications(appID: harness.appID).map(\.contents) == [["en": "to default"]])
            #expect(harness.hubSpot.callbackCompletions().count == 2)
        }
    }
}
