import Delivery
import Domain
import EventStore
import Foundation
import HubSpot
import Mapping
import OneSignal
import Operations
import PQ
import Projections
import Testing
import TestSupport

@Suite("hubsignal erase: a person's personal data gone from every table, the log's positions and counts intact", .serialized)
struct ErasureTests {
    /// Strings that only Ada's data contains.
    static let personal = ["ada-lovelace-1815", "ada.lovelace@example.com", "anon-ada-9", "Augusta", "501501"]

    /// Every base table of the database's public schema with how many rows mention any of `needles`.
    static func mentions(_ client: PQClient, _ needles: [String]) async throws -> [String: Int] {
        let tables = try await client.query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
            .map { try $0.decode(String.self, at: 0) }
        var found: [String: Int] = [:]
        for table in tables {
            let count = try await client.query(
                "SELECT count(*) FROM \(identifier: table) t WHERE t::text ILIKE ANY(\(needles.map { "%\($0)%" })::text[])")[0]
                .decode(Int64.self, at: 0)
            if count > 0 { found[table] = Int(count) }
        }
        return found
    }

    @Test("log, read models, rejections, outboxes and ledger hold nothing of the person; others stay; a rebuild agrees")
    func eraseEverywhere() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "ada-lovelace-1815")
            let hubSpot = harness.hubSpotClient
            _ = try await hubSpot.upsert(
                [HubSpotUpsertInput(id: "ada.lovelace@example.com", idProperty: "email", properties: ["firstname": "Augusta"])],
                objectType: "contacts")
            // Ada: identify, alias of an anonymous id, a track, her HubSpot id, a OneSignal event, a workflow action,
            // a rejected message. Bob: an identify that must stay.
            try await harness.projection.append(
                .identify,
                #"{"type":"identify","anonymousId":"anon-ada-9","traits":{"email":"ada.lovelace@example.com"},"messageId":"m1"}"#)
            let contact = try await harness.identify("ada-lovelace-1815", #"{"email":"ada.lovelace@example.com","firstName":"Augusta"}"#)
            try await harness.projection.append(
                .alias, #"{"type":"alias","userId":"ada-lovelace-1815","previousId":"anon-ada-9","messageId":"m3"}"#)
            try await harness.projection.append(
                .track, #"{"type":"track","userId":"ada-lovelace-1815","event":"Order Completed","properties":{"total":3},"messageId":"m4"}"#)
            try await harness.identify("bob-builder-1", #"{"email":"bob@example.com","firstName":"Bob"}"#)
            try await harness.projection.project()
            let adaContact = try await harness.projection.strings("SELECT contact_id FROM identities WHERE value = 'ada-lovelace-1815'")[0]
            try await harness.projection.append(
                .hubSpotContactSynced,
                #"{"contactId":"\#(adaContact)","hubspotId":"501501","properties":{"email":"ada.lovelace@example.com"}}"#, source: .hubsignal)
            try await harness.projection.append(
                EventType.oneSignal("message.push.clicked"),
                #"{"event_id":"e-1","kind":"message.push.clicked","external_id":"ada-lovelace-1815","app_id":"x","message_id":"n-1"}"#,
                source: .onesignal)
            try await harness.workflowAction("send_notification", callbackID: "ap-ada", objectID: "501501", inputs: #"{"content":"Hi Augusta"}"#)
            try await harness.client.execute(
                """
                INSERT INTO rejections (source, endpoint, request_id, message_index, reason, message)
                VALUES ('segment', '/v1/batch', 'r-1', 0, 'missing event', '{"type":"track","userId":"ada-lovelace-1815"}')
                """)
            _ = contact
            try await harness.settle([harness.worker(completes: false)])
            #expect(!(try await Self.mentions(harness.client, Self.personal)).isEmpty)
            let eventsBefore = try await harness.projection.count("SELECT count(*) FROM events")
            let maxBefore = try await harness.projection.count("SELECT max(position) FROM events")

            let erasure = Erasure(client: harness.client, store: harness.projection.store)
            let report = try await erasure.erase(
                .email("Ada.Lovelace@example.com"), hubSpot: hubSpot, oneSignal: [(app: "default", client: harness.oneSignalClient(), byEmail: false)])
            #expect(report.events >= 7)
            #expect(report.forwarded == ["hubspot", "onesignal:default"])
            try await harness.projection.project()

            #expect(try await Self.mentions(harness.client, Self.personal) == [:])
            // The log keeps its positions and counts: one more event (the erasure), none removed.
            #expect(try await harness.projection.count("SELECT count(*) FROM events") == eventsBefore + 1)
            #expect(try await harness.projection.count("SELECT count(*) FROM events WHERE position <= \(Int64(maxBefore))") == eventsBefore)
            #expect(try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.erasure'") == 1)
            // Others stay.
            #expect(try await harness.projection.strings("SELECT user_id FROM contacts WHERE user_id IS NOT NULL") == ["bob-builder-1"])
            // Forwarded: gone from both destinations.
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "ada-lovelace-1815") == nil)
            #expect(harness.hubSpot.contact(email: "ada.lovelace@example.com") == nil)
            // The log is still append-only for everyone else.
            await #expect(throws: PQError.self) { try await harness.client.execute("UPDATE events SET payload = '{}' WHERE position = 1") }
            // A rebuild from the redacted log brings nothing back.
            try await ProjectionRebuild(store: harness.projection.store, mapping: .defaults, logger: TestPostgres.logger).run()
            #expect(try await Self.mentions(harness.client, Self.personal) == [:])
            #expect(try await harness.projection.strings("SELECT user_id FROM contacts WHERE user_id IS NOT NULL") == ["bob-builder-1"])
            // An unknown person is an error that says so.
            await #expect(throws: ErasureError.self) { try await erasure.erase(.userID("nobody")) }
        }
    }

    @Test("a HubSpot privacy-deletion webhook erases the contact with that HubSpot id")
    func privacyDeletionWebhook() async throws {
        try await OneSignalHarness.run { harness in
            let deletions = PrivacyDeletions(store: harness.projection.store, logger: TestPostgres.logger)
            try await deletions.processNextBatch()  // starts at the end of the log
            try await harness.identify("ada-lovelace-1815", #"{"email":"ada.lovelace@example.com","firstName":"Augusta"}"#)
            try await harness.identify("bob-builder-1", #"{"email":"bob@example.com"}"#)
            try await harness.projection.project()
            let ada = try await harness.projection.strings("SELECT contact_id FROM identities WHERE value = 'ada-lovelace-1815'")[0]
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"\#(ada)","hubspotId":"501501","properties":{}}"#, source: .hubsignal)
            try await harness.projection.project()
            try await harness.projection.append(
                .hubSpotContactPrivacyDeletion,
                #"{"eventId":1,"subscriptionType":"contact.privacyDeletion","objectId":501501,"occurredAt":1790000000000}"#,
                source: .hubspot)
            // Until the erasure is in the log (a reader can be held back by other tests' transactions).
            let deadline = ContinuousClock.now + .seconds(30)
            while try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.erasure'") == 0 {
                try #require(ContinuousClock.now < deadline, "the privacy deletion was not erased within 30 s")
                if case .processed = try await deletions.processNextBatch() { continue }
                try await Task.sleep(for: .milliseconds(20))
            }
            try await harness.projection.project()
            #expect(try await Self.mentions(harness.client, Self.personal) == [:])
            #expect(try await harness.projection.strings("SELECT user_id FROM contacts WHERE user_id IS NOT NULL") == ["bob-builder-1"])
        }
    }
}
