import Domain
import EventStore
import Foundation
import Ingestion
import Operations
import PQ
import Testing
import TestSupport

/// `hubsignal events`: the audit trail of one contact, against a real PostgreSQL.
@Suite struct ContactAuditTrailTests {
    /// A log with two people, Ada and Bob, projected. Ada (`c_<identify>`) has an anonymous past merged into her by an
    /// alias (`c_<page>`), a HubSpot id (501) and result events; Bob's events, and a HubSpot *company* 501, are not hers.
    struct Fixture {
        var log: ProjectionHarness
        var ada = ""
        var anonymous = ""
        var bob = ""
        /// Positions of the events that concern Ada, in log order.
        var adas: [Int64] = []
        /// Positions of the events that do not.
        var others: [Int64] = []

        init(_ database: TestDatabase) { log = ProjectionHarness(database) }

        /// Appends one event on `stream`, as ingestion and the syncs do.
        @discardableResult
        mutating func append(_ type: EventType, stream: String, _ payload: String, source: EventSource = .segment) async throws -> Int64 {
            log.clock += 60
            return try await log.store.append([
                NewEvent(
                    stream: stream, type: type, source: source, idempotencyKey: UUID().uuidString, occurredAt: log.clock,
                    payload: PQJSONB(payload), metadata: PQJSONB("{}"))
            ])[0].position
        }

        mutating func build() async throws {
            let identify = try await append(
                .identify, stream: "user:ada",
                #"{"type":"identify","userId":"ada","anonymousId":"anon-1","traits":{"email":"Ada@Example.com","firstName":"Ada"}}"#)
            ada = "c_\(identify)"
            adas.append(identify)
            let bobIdentify = try await append(
                .identify, stream: "user:bob",
                #"{"type":"identify","userId":"bob","traits":{"email":"bob@example.com","firstName":"Bob"}}"#)
            bob = "c_\(bobIdentify)"
            others.append(bobIdentify)
            adas.append(
                try await append(
                    .track, stream: "user:ada",
                    #"{"type":"track","userId":"ada","event":"Order Completed","properties":{"total":42}}"#))
            others.append(
                try await append(.track, stream: "user:bob", #"{"type":"track","userId":"bob","event":"Order Completed"}"#))
            // An anonymous visitor, a contact of its own until the alias merges it into Ada.
            let page = try await append(
                .page, stream: "anonymous:anon-9", #"{"type":"page","anonymousId":"anon-9","name":"Pricing"}"#)
            anonymous = "c_\(page)"
            adas.append(page)
            try await log.project()
            // OneSignal acknowledged the anonymous contact's tags before the merge.
            adas.append(
                try await append(
                    .oneSignalUserSynced, stream: "contact:\(anonymous)",
                    #"{"contactId":"\#(anonymous)","externalId":"anon-9","app":"app-1","tags":{"plan":"free"},"sent":["plan"],"created":true}"#,
                    source: .hubsignal))
            adas.append(
                try await append(
                    .alias, stream: "user:ada", #"{"type":"alias","previousId":"anon-9","userId":"ada"}"#))
            // HubSpot acknowledged Ada (501) and Bob (777).
            adas.append(
                try await append(
                    .hubSpotContactSynced, stream: "contact:\(ada)",
                    #"{"contactId":"\#(ada)","hubspotId":"501","properties":{"email":"ada@example.com","firstname":"Ada"},"sent":["email","firstname"],"created":true}"#,
                    source: .hubsignal))
            others.append(
                try await append(
                    .hubSpotContactSynced, stream: "contact:\(bob)",
                    #"{"contactId":"\#(bob)","hubspotId":"777","properties":{"email":"bob@example.com"},"sent":["email"],"created":true}"#,
                    source: .hubsignal))
            try await log.project()
            adas.append(
                try await append(
                    .hubSpotContactPropertyChange, stream: "hubspot-contact:501",
                    #"{"eventId":11,"subscriptionType":"contact.propertyChange","objectId":501,"propertyName":"lifecyclestage","propertyValue":"customer","changeSource":"CRM","occurredAt":1790000000000}"#,
                    source: .hubspot))
            others.append(
                try await append(
                    .hubSpotContactPropertyChange, stream: "hubspot-contact:777",
                    #"{"eventId":12,"subscriptionType":"contact.propertyChange","objectId":777,"propertyName":"lifecyclestage","propertyValue":"lead","occurredAt":1790000000000}"#,
                    source: .hubspot))
            // A HubSpot company with the same number is not Ada.
            others.append(
                try await append(
                    EventType.hubSpotWebhook("company.propertyChange"), stream: "hubspot-company:501",
                    #"{"eventId":13,"subscriptionType":"company.propertyChange","objectId":501,"propertyName":"name","propertyValue":"Acme","occurredAt":1790000000000}"#,
                    source: .hubspot))
            adas.append(
                try await append(
                    EventType.oneSignal("message.push.clicked"), stream: "user:ada",
                    #"{"event_id":"ev-1","kind":"message.push.clicked","external_id":"ada","message_id":"n-42","title":"Sale ends tonight","app_id":"app-1"}"#,
                    source: .onesignal))
            others.append(
                try await append(
                    EventType.oneSignal("message.push.clicked"), stream: "user:bob",
                    #"{"event_id":"ev-2","kind":"message.push.clicked","external_id":"bob","message_id":"n-42","app_id":"app-1"}"#,
                    source: .onesignal))
            // As the workflow-notification worker writes it.
            let sent = OneSignalNotificationSent(
                callbackID: "cb-1", app: "app-1", hubSpotObjectID: "501",
                request: .init(externalID: "ada", idempotencyKey: "cb-1", targetChannel: "push", content: "Sale ends tonight"),
                notificationID: "n-77", recipients: 1, replayed: false, errors: [])
            adas.append(
                try await append(
                    .oneSignalNotificationSent, stream: "hubspot-contact:501", String(decoding: try sent.serialized(), as: UTF8.self),
                    source: .hubsignal))
            // On a stream that follows no convention (the harness's "test"): found through the mentions index (before
            // migration 0022, by the recent-window scan only).
            adas.append(try await log.append(.track, #"{"type":"track","userId":"ada","event":"Viewed Cart"}"#))
            try await log.project()
        }
    }

    @Test func resolvesEveryIdentityAndMergedIDsToTheSurvivor() async throws {
        try await TestPostgres.withDatabase { database in
            var fixture = Fixture(database)
            try await fixture.build()
            let trail = ContactAuditTrail(store: fixture.log.store)
            let references: [ContactAuditTrail.Reference] = [
                .contactID(fixture.ada), .contactID(fixture.anonymous), .userID("ada"), .email("  ADA@example.com "),
                .hubSpotID("501"), .anonymousID("anon-9"), .anonymousID("anon-1"),
            ]
            for reference in references {
                let contact = try await trail.resolve(reference)
                #expect(contact?.contactID == fixture.ada, "\(reference)")
            }
            let ada = try #require(try await trail.resolve(.userID("ada")))
            #expect(ada.mergedContactIDs == [fixture.anonymous])
            // The alias's previousId may be a previous userId too (Segment's spec): it names Ada under both kinds.
            #expect(ada.identities["user_id"] == ["ada", "anon-9"])
            #expect(ada.identities["email"] == ["ada@example.com"])
            #expect(ada.identities["hubspot_id"] == ["501"])
            #expect(ada.identities["anonymous_id"] == ["anon-1", "anon-9"])
            #expect(ada.streams.contains("contact:\(fixture.anonymous)") && ada.streams.contains("hubspot-contact:501"))

            #expect(try await trail.resolve(.hubSpotID("777"))?.contactID == fixture.bob)
            #expect(try await trail.resolve(.userID("nobody")) == nil)
            #expect(try await trail.resolve(.contactID("c_999999")) == nil)
            #expect(try await trail.resolve(.email("bob@example.com"))?.mergedContactIDs == [])
        }
    }

    @Test func listsExactlyTheContactsEventsOldestFirst() async throws {
        try await TestPostgres.withDatabase { database in
            var fixture = Fixture(database)
            try await fixture.build()
            let trail = ContactAuditTrail(store: fixture.log.store)

            let page = try await trail.events(contactID: fixture.ada, limit: 100)
            #expect(page.events.map(\.position) == fixture.adas)
            #expect(Set(page.events.map(\.position)).isDisjoint(with: fixture.others))
            // A merged id shows the survivor's whole trail.
            #expect(try await trail.events(contactID: fixture.anonymous, limit: 100).events.map(\.position) == fixture.adas)

            let bob = try await trail.events(contactID: fixture.bob, limit: 100)
            #expect(bob.events.map(\.position) == fixture.others.filter { $0 != fixture.others[4] })  // not the company

            // The mentions index finds the "test" stream's event whatever its age: no recent window is needed.
            let indexOnly = ContactAuditTrail(store: fixture.log.store, recentWindow: 0)
            #expect(try await indexOnly.events(contactID: fixture.ada, limit: 100).events.map(\.position) == fixture.adas)

            // Paging: the first three, then the rest after the cursor.
            let first = try await trail.events(contactID: fixture.ada, limit: 3)
            #expect(first.events.map(\.position) == Array(fixture.adas.prefix(3)))
            let rest = try await trail.events(contactID: fixture.ada, limit: 100, after: first.cursor)
            #expect(rest.events.map(\.position) == Array(fixture.adas.dropFirst(3)))

            await #expect(throws: ContactAuditTrailError.self) {
                _ = try await trail.events(contactID: "c_999999", limit: 10)
            }
        }
    }

    @Test func latestShowsTheNewestAndFollowingShowsOnlyWhatComesNext() async throws {
        try await TestPostgres.withDatabase { database in
            var fixture = Fixture(database)
            try await fixture.build()
            let trail = ContactAuditTrail(store: fixture.log.store)

            let latest = try await trail.latest(contactID: fixture.ada, limit: 3)
            #expect(latest.events.map(\.position) == Array(fixture.adas.suffix(3)))
            #expect(latest.hasEarlier)
            let all = try await trail.latest(contactID: fixture.ada, limit: 100)
            #expect(all.events.map(\.position) == fixture.adas)
            #expect(!all.hasEarlier)

            // Nothing new yet; then one event of Ada's and one of Bob's arrive.
            let idle = try await trail.events(contactID: fixture.ada, limit: 100, after: all.cursor)
            #expect(idle.events.isEmpty)
            #expect(idle.cursor >= all.cursor)
            let paid = try await fixture.append(
                .track, stream: "user:ada", #"{"type":"track","userId":"ada","event":"Paid"}"#)
            try await fixture.append(.track, stream: "user:bob", #"{"type":"track","userId":"bob","event":"Paid"}"#)
            // Readers stop at the oldest running transaction of the server (other tests run in parallel): poll.
            var next = try await trail.events(contactID: fixture.ada, limit: 100, after: idle.cursor)
            let deadline = ContinuousClock.now + .seconds(30)
            while next.events.isEmpty && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                next = try await trail.events(contactID: fixture.ada, limit: 100, after: next.cursor)
            }
            #expect(next.events.map(\.position) == [paid])
            #expect(try await trail.events(contactID: fixture.ada, limit: 100, after: next.cursor).events.isEmpty)
        }
    }

    @Test func summariesSayWhatTheAPIsAnswered() async throws {
        try await TestPostgres.withDatabase { database in
            var fixture = Fixture(database)
            try await fixture.build()
            let events = try await ContactAuditTrail(store: fixture.log.store).events(contactID: fixture.ada, limit: 100).events
            func summary(_ type: String) -> String { events.first { $0.type.rawValue == type }?.summary ?? "(none)" }

            #expect(summary("segment.identify") == "userId ada, email Ada@Example.com; traits: email, firstName")
            #expect(summary("segment.track") == "“Order Completed”; userId ada; properties: total")
            #expect(summary("segment.alias") == "anon-9 → ada")
            #expect(summary("hubsignal.hubspot.contact_synced") == "HubSpot contact 501 created; sent: email, firstname")
            #expect(summary("hubsignal.onesignal.user_synced") == "OneSignal user anon-9 created; sent: plan; tags: plan=free; app app-1")
            #expect(summary("hubspot.webhook.contact.propertyChange") == "HubSpot contact 501; lifecyclestage = customer; by CRM")
            #expect(summary("onesignal.message.push.clicked") == "external id ada; notification n-42; “Sale ends tonight”")
            #expect(summary("hubsignal.onesignal.notification_sent") == "notification n-77; recipients 1")

            // A result event that does not decode as its type (hand-written, or cut short) shows its first members.
            #expect(
                ContactAuditTrail.summary(type: .oneSignalNotificationSent, payload: .object(["notificationId": .string("n-1"), "recipients": .int(2)]))
                    == "notificationId=n-1, recipients=2")
            #expect(
                ContactAuditTrail.summary(
                    type: .hubSpotDeliveryFailed, payload: .object(["contactId": .string("c_1"), "reason": .string("INVALID_EMAIL"), "properties": .array([.string("email")])]))
                    == "failed: INVALID_EMAIL; properties: email")

            let identify = try #require(events.first)
            let json = identify.json
            #expect(json["position"] == .int(identify.position))
            #expect(json["type"] == .string("segment.identify"))
            #expect(json["stream"] == .string("user:ada"))
            #expect(json["source"] == .string("segment"))
            #expect(json["payload"]?["traits"]?["firstName"] == .string("Ada"))
            #expect(json["recorded_at"]?.stringValue?.hasSuffix("Z") == true)
        }
    }
}
