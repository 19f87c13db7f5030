import Delivery
import Operations
import Domain
import EventStore
import Foundation
import HubSpot
import Mapping
import OneSignal
import PQ
import Projections
import Testing
import TestSupport

/// `serve`'s whole path runs as a role with exactly the documented grants (`ServiceRole.documentedGrants()`): ingest, the
/// projection, both syncs (contacts, a workflow notification) and a HubSpot privacy deletion (issue 18, item 10).
@Suite("the serve path with the documented service-role grants", .serialized)
struct ServiceRoleServePathTests {
    @Test("ingest, projection, HubSpot and OneSignal syncs and a privacy deletion as the service role")
    func servePath() async throws {
        try await OneSignalHarness.run { harness in
            let (role, client) = try await ServiceRole.create(in: harness.projection.database)
            do {
                let store = EventStore(client: client, logger: TestPostgres.logger)
                let deletions = PrivacyDeletions(store: store, logger: TestPostgres.logger)
                try await deletions.processNextBatch()  // starts at the end of the log
                // Ingest: Segment identifies and a rejected message.
                for (user, email) in [("ada-lovelace-1815", "ada.lovelace@example.com"), ("bob-builder-1", "bob@example.com")] {
                    _ = try await store.append([
                        NewEvent(
                            stream: "user:\(user)", type: .identify, source: .segment, idempotencyKey: UUID().uuidString,
                            occurredAt: Date(),
                            payload: PQJSONB(#"{"type":"identify","userId":"\#(user)","traits":{"email":"\#(email)","firstName":"X"}}"#))
                    ])
                }
                try await client.execute(
                    """
                    INSERT INTO rejections (source, endpoint, request_id, message_index, reason, message)
                    VALUES ('segment', '/v1/batch', 'r-1', 0, 'missing event', '{"type":"track","userId":"ada-lovelace-1815"}')
                    """)
                // The projection.
                let service = PeopleProjectionService(
                    store: store, watcher: LogWatcher(), mapping: .defaults, autoRebuild: true, logger: TestPostgres.logger)
                try await service.prepare()
                let projection = service.makeSubscription()
                func project() async throws {
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline, try await projection.processNextBatch() != .idle(isHeldBack: false) {
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                try await project()
                #expect(try await harness.projection.count("SELECT count(*) FROM contacts") == 2)

                // Both syncs.
                var hubSpotConfiguration = HubSpotSync.Configuration(owner: "hubspot-worker")
                hubSpotConfiguration.portalID = "12345678"
                hubSpotConfiguration.linger = .zero
                hubSpotConfiguration.retry = RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), maximumAttempts: 20)
                let hubSpot = HubSpotSync(
                    configuration: hubSpotConfiguration, client: harness.hubSpotClient, database: client, store: store, mapping: .defaults,
                    logger: TestPostgres.logger)
                var oneSignalConfiguration = OneSignalSync.Configuration(owner: "onesignal-worker", app: Mapping.defaults.oneSignalApps[0].name)
                oneSignalConfiguration.linger = .zero
                oneSignalConfiguration.spacing = .zero
                oneSignalConfiguration.retry = RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), maximumAttempts: 20)
                let hubSpotClient = harness.hubSpotClient
                let oneSignal = OneSignalSync(
                    configuration: oneSignalConfiguration, client: harness.oneSignalClient(), database: client, store: store,
                    mapping: .defaults,
                    completer: WorkflowActionCompleter { callbackID, fields in
                        try await hubSpotClient.completeWorkflowAction(callbackID: callbackID, outputFields: fields)
                    }, logger: TestPostgres.logger)
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline, harness.hubSpot.contact(email: "ada.lovelace@example.com") == nil {
                    _ = try await hubSpot.runOnce()
                    try await project()
                }
                #expect(harness.hubSpot.contact(email: "ada.lovelace@example.com") != nil)
                try harness.sandbox.seedUser(appID: harness.appID, externalID: "ada-lovelace-1815")
                let hubSpotID = try #require(harness.hubSpot.contact(email: "ada.lovelace@example.com")?.id)
                try await project()
                // A workflow notification for Ada, sent by the OneSignal worker.
                _ = try await store.append([
                    NewEvent(
                        stream: "hubspot-contact:\(hubSpotID)", type: .sendNotification, source: .hubspot,
                        idempotencyKey: "ap-ada", occurredAt: Date(),
                        payload: PQJSONB(
                            #"{"callbackId":"ap-ada","object":{"objectId":\#(hubSpotID),"objectType":"CONTACT"},"inputFields":{"content":"Hi"}}"#))
                ])
                try await project()
                let sendDeadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < sendDeadline,
                    try await harness.projection.count(
                        "SELECT count(*) FROM events WHERE type IN ('hubsignal.onesignal.notification_sent', 'hubsignal.onesignal.notification_failed')") == 0
                {
                    _ = try await oneSignal.runOnce()
                    try await project()
                    try await Task.sleep(for: .milliseconds(20))
                }
                // Sent to OneSignal (which answers that the seeded user has no subscription: a recorded failure).
                #expect(try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_requested'") == 1)
                #expect(harness.sandbox.requests.all.contains { $0.method == "POST" && $0.path.hasSuffix("/notifications") })

                // A HubSpot privacy deletion, erased by the subscription as the service role.
                _ = try await store.append([
                    NewEvent(
                        stream: "hubspot-contact:\(hubSpotID)", type: .hubSpotContactPrivacyDeletion, source: .hubspot,
                        idempotencyKey: "pd-1", occurredAt: Date(),
                        payload: PQJSONB(#"{"eventId":1,"subscriptionType":"contact.privacyDeletion","objectId":\#(hubSpotID)}"#))
                ])
                let eraseDeadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < eraseDeadline,
                    try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.erasure'") == 0
                {
                    if case .processed = try await deletions.processNextBatch() { continue }
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await project()
                #expect(try await harness.projection.count("SELECT count(*) FROM erasure_failures") == 0)
                let left = try await ErasureTests.mentions(harness.client, ["ada-lovelace-1815", "ada.lovelace@example.com"])
                #expect(left == [:])
                #expect(try await harness.projection.strings("SELECT user_id FROM contacts") == ["bob-builder-1"])
                try await ServiceRole.drop(role, client: client, in: harness.projection.database)
            } catch {
                try? await ServiceRole.drop(role, client: client, in: harness.projection.database)
                throw error
            }
        }
    }

    @Test("an erasure that fails for good becomes a dead letter shown by status; the subscription goes on")
    func failedErasureIsADeadLetter() async throws {
        try await OneSignalHarness.run { harness in
            let deletions = PrivacyDeletions(store: harness.projection.store, logger: TestPostgres.logger)
            try await deletions.processNextBatch()
            try await harness.identify("ada-lovelace-1815", #"{"email":"ada.lovelace@example.com"}"#)
            try await harness.projection.project()
            let ada = try await harness.projection.strings("SELECT contact_id FROM identities WHERE value = 'ada-lovelace-1815'")[0]
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"\#(ada)","hubspotId":"501501","properties":{}}"#, source: .hubsignal)
            try await harness.projection.project()
            // The erasure cannot run (as when the role lacks EXECUTE on the function).
            try await harness.client.execute(
                "ALTER FUNCTION hubsignal_erase_events(bigint[], text, text[]) RENAME TO hubsignal_erase_events_away")
            let webhook = try await harness.projection.append(
                .hubSpotContactPrivacyDeletion, #"{"eventId":1,"objectId":501501}"#, source: .hubspot)
            try await harness.projection.append(.identify, #"{"type":"identify","userId":"later-1"}"#)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline, try await harness.projection.count("SELECT count(*) FROM erasure_failures") == 0 {
                _ = try? await deletions.processNextBatch()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await harness.projection.count("SELECT count(*) FROM erasure_failures WHERE hubspot_object_id = '501501'") == 1)
            // The batch is done: the checkpoint passed the webhook (the later identify may come in a batch of its own).
            let checkpoint = try await harness.projection.count(
                "SELECT position FROM subscription_checkpoints WHERE name = \(PrivacyDeletions.name)")
            #expect(checkpoint >= Int(webhook), "the failed batch would be read again")
            let status = try await DeliveryStatus.read(client: harness.client)
            #expect(status.destinations.first { $0.name == "privacy-deletions" }?.dead == 1)
            // Once fixed, erasing the person by HubSpot id clears the dead letter.
            try await harness.client.execute(
                "ALTER FUNCTION hubsignal_erase_events_away(bigint[], text, text[]) RENAME TO hubsignal_erase_events")
            let erasure = Erasure(client: harness.client, store: harness.projection.store)
            _ = try await erasure.erase(.hubSpotID("501501"))
            #expect(try await harness.projection.count("SELECT count(*) FROM erasure_failures") == 0)
            // A dead letter of an erasure that committed but did not settle: the person is gone, the dead letter too.
            try await harness.client.execute(
                "INSERT INTO erasure_failures (position, hubspot_object_id, reason) VALUES (1, '777', 'did not settle')")
            await #expect(throws: ErasureError.self) { _ = try await erasure.erase(.hubSpotID("777")) }
            #expect(try await harness.projection.count("SELECT count(*) FROM erasure_failures") == 0)
        }
    }
}
