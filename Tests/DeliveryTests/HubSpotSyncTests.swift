import AsyncHTTPClient
import Delivery
import Operations
import Domain
import EventStore
import Foundation
import HubSpot
import HubSpotSandbox
import Mapping
import PQ
import SandboxKit
import Testing
import TestSupport

/// The HubSpot sync end to end: events in a real PostgreSQL log, the people projection, the sync workers, and the
/// HubSpot sandbox over real HTTP.
@Suite(.timeLimit(.minutes(3)))
struct HubSpotSyncTests {
    @Test func anIdentifyWithAnEmailBecomesAHubSpotContactAndTheResultIsInTheLog() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("u1", #"{"email":"Ada@Example.com","firstName":"Ada","lastName":"Lovelace"}"#)
            try await sync.settle([sync.worker()])

            let contact = try #require(sync.sandbox.contact(email: "ada@example.com"))
            #expect(contact["firstname"] == "Ada")
            #expect(contact["lastname"] == "Lovelace")
            let rows = try await sync.client.query(
                """
                SELECT c.hubspot_contact_id, s.state FROM contacts c JOIN sync_status s USING (contact_id)
                WHERE s.destination = 'hubspot'
                """)
            let (hubSpotID, state) = try rows[0].decode((String?, String).self)
            #expect(hubSpotID == contact.id)
            #expect(state == "in_sync")
            let results = try await sync.projection.strings(
                "SELECT payload->>'hubspotId' FROM events WHERE type = 'hubsignal.hubspot.contact_synced'")
            #expect(results == [contact.id])
        }
    }

    @Test func aContactWithoutAnEmailWaitsAndIsSyncedWhenOneArrives() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("u2", #"{"firstName":"Grace"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.upsertCalls() == 0)
            #expect(try await sync.projection.strings("SELECT state FROM sync_status WHERE destination = 'hubspot'") == ["waiting"])

            try await sync.identify("u2", #"{"email":"grace@example.com"}"#)
            try await sync.settle([sync.worker()])
            let contact = try #require(sync.sandbox.contact(email: "grace@example.com"))
            #expect(contact["firstname"] == "Grace")
        }
    }

    @Test func changesCoalesceAndOnlyTheDifferenceIsSentAgain() async throws {
        try await SyncHarness.run { sync in
            for index in 1...5 {
                try await sync.identify("u3", #"{"email":"linus@example.com","firstName":"L\#(index)","lastName":"T"}"#)
            }
            let worker = sync.worker()
            try await sync.settle([worker])
            #expect(sync.upsertCalls() == 1)
            #expect(sync.sandbox.contact(email: "linus@example.com")?["firstname"] == "L5")

            // Nothing changed: no call at all.
            try await sync.settle([worker])
            #expect(sync.upsertCalls() == 1)

            // One trait changed: only that property goes out (with the email, written in every input so that HubSpot's
            // answer names the contact).
            try await sync.identify("u3", #"{"lastName":"Torvalds","firstName":"L5"}"#)
            try await sync.settle([worker])
            let inputs = try sync.upsertInputs()
            #expect(inputs.count == 2)
            #expect((inputs[1]["properties"] as? [String: String]) == ["email": "linus@example.com", "lastname": "Torvalds"])
            #expect(sync.sandbox.contact(email: "linus@example.com")?["lastname"] == "Torvalds")
        }
    }

    @Test func aBatchWithOneInvalidEmailLandsTheOthersAndParksTheBadOne() async throws {
        try await SyncHarness.run { sync in
            for index in 1...6 {
                try await sync.identify("good\(index)", #"{"email":"good\#(index)@example.com","firstName":"G\#(index)"}"#)
            }
            try await sync.identify("bad", #"{"email":"bad@nodot","firstName":"Bad"}"#)
            try await sync.settle([sync.worker()])

            #expect(sync.sandbox.contacts().count == 6)
            let failed = try await sync.client.query(
                """
                SELECT c.user_id, s.state, s.reason FROM sync_status s JOIN contacts c USING (contact_id)
                WHERE s.destination = 'hubspot' AND s.state <> 'in_sync'
                """)
            #expect(failed.count == 1)
            let (userID, state, reason) = try failed[0].decode((String?, String, String?).self)
            #expect(userID == "bad")
            #expect(state == "failed")
            #expect(reason?.contains("INVALID_EMAIL") == true || reason?.contains("email") == true)
            let status = try await DeliveryStatus.read(client: sync.client)
            let hubSpot = try #require(status.destinations.first { $0.name == "hubspot" })
            #expect(hubSpot.dead == 1)
            #expect(hubSpot.contacts["failed"] == 1)

            // A dead letter stays dead through further rounds, and `retry` sends it again (HubSpot refuses again).
            let before = sync.upsertCalls()
            try await sync.settle([sync.worker()])
            #expect(sync.upsertCalls() == before)
            #expect(try await DeliveryLedger(client: sync.client).retry(destination: "hubspot") == 1)
            try await sync.settle([sync.worker()])
            #expect(sync.upsertCalls() == before + 1)
        }
    }

    @Test func unknownPropertiesAreDroppedOrCreatedAsTheMappingSays() async throws {
        try await SyncHarness.run { sync in
            let creating = try Mapping.parse(
                """
                contacts:
                  unknown_traits: create
                  properties:
                    seats: { property: seat_count, type: number }
                """)
            try await sync.identify("u4", #"{"email":"kay@example.com","favorite_color":"teal","seats":12}"#)
            try await sync.settle([sync.worker(mapping: creating)], mapping: creating)

            let contact = try #require(sync.sandbox.contact(email: "kay@example.com"))
            #expect(contact["favorite_color"] == "teal")
            #expect(contact["seat_count"] == "12")
            let created = sync.sandbox.properties(of: "contacts")
            #expect(created.first { $0.name == "seat_count" }?.type.rawValue == "number")
            #expect(created.first { $0.name == "favorite_color" }?.type.rawValue == "string")
        }
    }

    @Test func aPropertyDeletedInHubSpotIsNoticedFromHubSpotsAnswerAndCreatedAgain() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(
                """
                contacts:
                  properties:
                    plan: plan_tier
                """)
            let worker = sync.worker(mapping: mapping)
            try await sync.identify("u5", #"{"email":"ann@example.com","plan":"pro","firstName":"Ann"}"#)
            try await sync.settle([worker], mapping: mapping)
            #expect(sync.sandbox.contact(email: "ann@example.com")?["plan_tier"] == "pro")

            // Someone deletes the property in HubSpot; the worker's cached list still has it, so HubSpot's
            // PROPERTY_DOESNT_EXIST answer is how it learns.
            var request = HTTPClientRequest(url: sync.sandbox.baseURL + "/crm/v3/properties/contacts/plan_tier")
            request.method = .DELETE
            request.headers.add(name: "Authorization", value: "Bearer \(sync.token)")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            #expect(response.status.code == 204)
            try await sync.identify("u5", #"{"plan":"enterprise"}"#)
            try await sync.settle([worker], mapping: mapping)
            #expect(sync.sandbox.contact(email: "ann@example.com")?["plan_tier"] == "enterprise")
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/properties/contacts").count == 2)
        }
    }

    @Test func rateLimitStormsAndServerErrorsAreRetriedWithoutLoss() async throws {
        try await SyncHarness.run { sync in
            for index in 1...30 {
                try await sync.identify("s\(index)", #"{"email":"s\#(index)@example.com","firstName":"S\#(index)"}"#)
            }
            let storm = Data(
                #"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c93e06a4-7d61-4c3e-b63f-edf486fc6e90","policyName":"TEN_SECONDLY_ROLLING"}"#.utf8)
            sync.sandbox.faults.inject(.status(429, body: storm, headers: [("Retry-After", "0")]), times: 3, pathPrefix: "/crm/v3/objects/contacts")
            sync.sandbox.faults.inject(.status(502, body: nil, headers: []), times: 2, pathPrefix: "/crm/v3/objects/contacts")
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.contacts().count == 30)
            #expect(try await sync.projection.count("SELECT count(*) FROM sync_status WHERE destination = 'hubspot' AND state = 'in_sync'") == 30)
            #expect(try await sync.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.hubspot.contact_synced'") == 30)
        }
    }

    @Test func aValueChangedBackAfterAnAttemptWithAnUnknownOutcomeIsSentAgain() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("aba", #"{"email":"aba@example.com","firstName":"A"}"#)
            let worker = sync.worker()
            try await sync.settle([worker])
            #expect(sync.sandbox.contact(email: "aba@example.com")?["firstname"] == "A")
            // B reaches HubSpot, but the answer is lost: HubSignal cannot know whether it landed.
            sync.sandbox.faults.inject(.dropConnection(afterHandling: true), pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            try await sync.identify("aba", #"{"firstName":"B"}"#)
            let deadline = ContinuousClock.now + .seconds(20)
            while sync.sandbox.faults.pendingCount > 0, ContinuousClock.now < deadline {
                try await sync.projection.project()
                _ = try await worker.runOnce()
            }
            #expect(sync.sandbox.contact(email: "aba@example.com")?["firstname"] == "B")
            // Back to A before the retry: the read model now equals what HubSpot last acknowledged (A), yet HubSpot
            // holds B. The retry must still send A.
            try await sync.identify("aba", #"{"firstName":"A"}"#)
            while sync.sandbox.contact(email: "aba@example.com")?["firstname"] != "A", ContinuousClock.now < deadline {
                try await sync.projection.project()
                _ = try await worker.runOnce()
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(sync.sandbox.contact(email: "aba@example.com")?["firstname"] == "A")
            #expect(try await sync.projection.count("SELECT count(*) FROM sync_status WHERE destination = 'hubspot' AND state = 'in_sync'") == 1)
        }
    }

    @Test func aTimeoutMidBatchIsRetriedAndTheRetryIsHarmless() async throws {
        try await SyncHarness.run { sync in
            for index in 1...10 {
                try await sync.identify("t\(index)", #"{"email":"t\#(index)@example.com","firstName":"T\#(index)"}"#)
            }
            sync.sandbox.faults.inject(.timeout(.seconds(3)), times: 1, pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            sync.sandbox.faults.inject(.dropConnection(afterHandling: true), times: 1, pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            let worker = sync.worker(client: sync.hubSpotClient(timeout: .seconds(1)))
            try await sync.settle([worker])
            #expect(sync.sandbox.contacts().count == 10)
            #expect(sync.upsertCalls() >= 3)
            #expect(try await sync.projection.count("SELECT count(*) FROM sync_status WHERE destination = 'hubspot' AND state = 'in_sync'") == 10)
        }
    }

    @Test func companiesAndAssociationsLandWhateverTheOrderOfEvents() async throws {
        try await SyncHarness.run { sync in
            // The company comes before the contact has an email (HubSpot cannot know the contact yet).
            try await sync.group("u6", groupID: "acme", #"{"name":"Acme","website":"https://www.acme.example/"}"#)
            try await sync.settle([sync.worker()])
            let company = try #require(sync.sandbox.companies().first)
            #expect(company["name"] == "Acme")
            #expect(company["segment_group_id"] == "acme")
            #expect(sync.sandbox.associations(from: "contacts", id: company.id).isEmpty)

            try await sync.identify("u6", #"{"email":"wile@example.com"}"#)
            try await sync.settle([sync.worker()])
            let contact = try #require(sync.sandbox.contact(email: "wile@example.com"))
            let associations = sync.sandbox.associations(from: "contacts", id: contact.id, to: "companies")
            #expect(associations.map(\.toObjectID) == [company.id])
            // The contact's first company is its primary one.
            #expect(Set(associations.first?.types.map(\.typeID) ?? []) == [1, 279])
            #expect(try await sync.projection.count("SELECT count(*) FROM contact_companies WHERE hubspot_associated") == 1)

            // A second group call for the same company updates it, no second company.
            try await sync.group("u6", groupID: "acme", #"{"name":"Acme Corp"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.companies().count == 1)
            #expect(sync.sandbox.companies().first?["name"] == "Acme Corp")
        }
    }

    @Test func aCompanyAlreadyInHubSpotIsFoundByItsDomainInsteadOfDuplicated() async throws {
        try await SyncHarness.run { sync in
            let existing = try sync.sandbox.seedObject(ofType: "companies", properties: ["name": "Initech", "domain": "initech.example"])
            try await sync.group("u16", groupID: "initech", #"{"name":"Initech Inc","website":"https://initech.example/"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.companies().count == 1)
            let company = try #require(sync.sandbox.company(id: existing.id))
            #expect(company["segment_group_id"] == "initech")
            #expect(company["name"] == "Initech Inc")
            #expect(try await sync.projection.strings("SELECT hubspot_company_id FROM companies") == [existing.id])

            // Later changes go by the group id.
            try await sync.group("u16", groupID: "initech", #"{"industry":"Software"}"#)
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.companies().count == 1)
            #expect(sync.sandbox.company(id: existing.id)?["industry"] == "Software")
        }
    }

    @Test func dateAndDatetimePropertiesAreSentTheWayHubSpotStoresThem() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(
                """
                contacts:
                  properties:
                    signed_up_at: { property: signup_date, type: date }
                    last_login: { property: last_login_at, type: datetime }
                """)
            try await sync.identify(
                "u7", #"{"email":"dates@example.com","signed_up_at":"2026-11-01T15:30:00Z","last_login":"2026-11-20T08:00:00+01:00"}"#)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)
            let sent = try #require(try sync.upsertInputs().last?["properties"] as? [String: String])
            #expect(sent["signup_date"] == "2026-11-01")
            #expect(sent["last_login_at"] == "2026-11-20T07:00:00.000Z")
            let contact = try #require(sync.sandbox.contact(email: "dates@example.com"))
            #expect(contact["signup_date"] != nil)
            #expect(sync.sandbox.properties(of: "contacts").first { $0.name == "signup_date" }?.type.rawValue == "date")
        }
    }

    @Test func aRebuildAfterAMappingChangeSendsOnlyTheRealDifferences() async throws {
        try await SyncHarness.run { sync in
            for index in 1...5 {
                try await sync.identify("r\(index)", #"{"email":"r\#(index)@example.com","firstName":"R\#(index)","plan":"pro"}"#)
            }
            try await sync.settle([sync.worker()])
            #expect(sync.upsertCalls() == 1)

            // The new mapping adds one property; the rebuild keeps what HubSpot acknowledged (from the log).
            let mapping = try Mapping.parse(
                """
                contacts:
                  properties:
                    plan: plan_tier
                """)
            try await sync.settle([sync.worker(mapping: mapping)], mapping: mapping)
            let inputs = try sync.upsertInputs()
            // The first call carried the five contacts; after the rebuild only the new property goes out.
            let resent = inputs.dropFirst(5).compactMap { $0["properties"] as? [String: String] }
            #expect(sync.upsertCalls() == 2)
            #expect(resent.count == 5)
            #expect(resent.allSatisfy { $0.filter { $0.key != "email" } == ["plan_tier": "pro"] && $0["email"] != nil })
        }
    }

    @Test func aKilledWorkersContactsPassToAnotherWorkerWhenItsLeaseEnds() async throws {
        try await SyncHarness.run { sync in
            for index in 1...4 {
                try await sync.identify("k\(index)", #"{"email":"k\#(index)@example.com"}"#)
            }
            try await sync.projection.project()
            // A worker claims and dies before pushing (its claim is all that is left of it).
            let ledger = DeliveryLedger(client: sync.client)
            // (A lease of seconds: a loaded machine must not let it pass before the survivor's first round.)
            let claimed = try await ledger.claimHubSpotContacts(limit: 100, linger: .zero, lease: .seconds(4), owner: "killed")
            #expect(claimed.count == 4)
            let survivor = sync.worker("survivor")
            #expect(try await survivor.runOnce() == 0)  // leased: not taken
            try await Task.sleep(for: .milliseconds(4_100))
            try await sync.settle([survivor])
            #expect(sync.sandbox.contacts().count == 4)
            #expect(try await sync.projection.count("SELECT count(*) FROM deliveries WHERE lease_owner IS NOT NULL") == 0)
        }
    }

    @Test func twoWorkersShareTheWorkAndNeverPushAContactTwice() async throws {
        try await SyncHarness.run { sync in
            for index in 1...250 {
                try await sync.identify("w\(index)", #"{"email":"w\#(index)@example.com","firstName":"W\#(index)"}"#)
            }
            try await sync.projection.project()
            let first = sync.worker("first")
            let second = sync.worker("second")
            async let a = Self.drain(first)
            async let b = Self.drain(second)
            let (claimedByFirst, claimedBySecond) = try await (a, b)
            #expect(claimedByFirst + claimedBySecond == 250)
            try await sync.settle([first, second])
            let emails = try sync.upsertInputs().compactMap { $0["id"] as? String }
            #expect(emails.count == 250)
            #expect(Set(emails).count == 250)
            #expect(sync.sandbox.contacts().count == 250)
        }
    }

    @Test func trackAndPageCallsBecomeBehavioralEventsOnceEach() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(
                """
                behavioral_events:
                  enabled: true
                page_views:
                  pages: per_name
                """)
            // The event sent before its contact has an email is retried every 20–100 ms while it waits: with the default
            // 20 attempts it would become a dead letter after about two seconds of settling, which a loaded machine
            // spends on the first settle alone.
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.settle([worker], mapping: mapping)  // the outbox starts at the end of the log
            try await sync.identify("u8", #"{"email":"buyer@example.com"}"#)
            // Sent before the contact has an email: it waits for one.
            try await sync.track("u9", "Order Completed", #"{"total":42,"currency":"EUR","items":[1,2]}"#)
            try await sync.track("u8", "Order Completed", #"{"total":19.5,"currency":"EUR"}"#)
            try await sync.page("u8", "Pricing", #"{"url":"https://example.com/pricing","title":"Pricing"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            var events = sync.sandbox.behavioralEvents()
            #expect(events.count == 2)
            #expect(Set(events.map(\.eventName)) == ["pe12345678_order_completed", "pe12345678_page_pricing"])
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 1)

            try await sync.identify("u9", #"{"email":"later@example.com"}"#)
            try await sync.projection.project(mapping)
            try await sync.client.execute("UPDATE deliveries SET next_attempt_at = now() WHERE object_kind = 'event'")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            events = sync.sandbox.behavioralEvents()
            #expect(events.count == 3)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
            #expect(try await sync.projection.count("SELECT count(*) FROM deliveries WHERE object_kind = 'event'") == 0)
        }
    }

    @Test func nothingIsSentAsBehavioralEventsWhenTheMappingDoesNotSaySo() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.identify("u10", #"{"email":"quiet@example.com"}"#)
            try await sync.track("u10", "Order Completed", #"{"total":1}"#)
            try await sync.page("u10", "Home", #"{}"#)
            try await sync.settle([worker])
            #expect(sync.sandbox.behavioralEvents().isEmpty)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/").isEmpty)
        }
    }

    @Test func aClickReachesTheContactsTimelineAsANoteOnceEvenAfterADroppedConnection() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.settle([worker])  // the outbox starts at the end of the log
            try await sync.identify("u11", #"{"email":"reader@example.com"}"#)
            try await sync.settle([worker])
            let contact = try #require(sync.sandbox.contact(email: "reader@example.com"))

            sync.sandbox.faults.inject(.dropConnection(afterHandling: true), times: 1, pathPrefix: "/crm/v3/objects/notes")
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u11")
            try await sync.oneSignalEvent("message.push.received", externalID: "u11")  // not a timeline kind by default
            try await sync.settle([worker], timeout: .seconds(30))
            try await sync.client.execute("UPDATE deliveries SET next_attempt_at = now() WHERE object_kind = 'event'")
            try await sync.settle([worker], timeout: .seconds(30))

            let notes = sync.sandbox.notes(forContact: contact.id)
            #expect(notes.count == 1)
            let body = try #require(notes.first?["hs_note_body"])
            #expect(body.contains("OneSignal push clicked"))
            #expect(body.contains("Sale ends tonight"))
            #expect(body.contains("n-42"))
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/notes/search").count == 1)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
        }
    }

    @Test("OneSignal message events set contact properties HubSpot users can segment on (created on first use)")
    func messageEventsBecomeContactProperties() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.identify("u20", #"{"email":"clicker@example.com"}"#)
            try await sync.settle([worker])
            try await sync.oneSignalEvent("message.push.sent", externalID: "u20")
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u20")
            try await sync.settle([worker], timeout: .seconds(30))
            let contact = try #require(sync.sandbox.contact(email: "clicker@example.com"))
            let clicked = try #require(contact["onesignal_last_push_clicked_at"])
            #expect(clicked.hasPrefix("20"))
            #expect(contact["onesignal_last_push_sent_at"] != nil)
            #expect(contact["onesignal_push_subscription"] == "subscribed")
            #expect(sync.sandbox.properties(of: "contacts").first { $0.name == "onesignal_last_push_clicked_at" }?.type.rawValue == "datetime")
            // An unsubscribe flips the subscription property.
            try await sync.oneSignalEvent("message.push.unsubscribed", externalID: "u20")
            try await sync.settle([worker], timeout: .seconds(30))
            #expect(sync.sandbox.contact(email: "clicker@example.com")?["onesignal_push_subscription"] == "unsubscribed")
        }
        // Off when the mapping says so.
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse("hubspot_timeline:\n  properties: false\n")
            let worker = sync.worker(mapping: mapping)
            try await sync.identify("u21", #"{"email":"quiet@example.com"}"#)
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u21")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.contact(email: "quiet@example.com")?["onesignal_last_push_clicked_at"] == nil)
        }
    }

    @Test func timelineEntriesCanBeBehavioralEventsOrTimelineEventsAsTheMappingSays() async throws {
        try await SyncHarness.run { sync in
            let events = try Mapping.parse(
                """
                hubspot_timeline:
                  mode: behavioral_event
                  kinds: [clicked]
                """)
            let worker = sync.worker(mapping: events)
            try await sync.settle([worker], mapping: events)
            try await sync.identify("u12", #"{"email":"fan@example.com"}"#)
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u12")
            try await sync.oneSignalEvent("message.push.sent", externalID: "u12")  // not listed in kinds
            try await sync.settle([worker], mapping: events, timeout: .seconds(30))
            let sent = sync.sandbox.behavioralEvents()
            #expect(sent.map(\.eventName) == ["pe12345678_onesignal_clicked"])
            #expect(sent.first?.properties["notification_id"] == "n-42")
        }
        try await SyncHarness.run { sync in
            sync.sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message"))
            let timeline = try Mapping.parse(
                """
                hubspot_timeline:
                  mode: timeline_event
                  template_id: "1001298"
                """)
            let worker = sync.worker(mapping: timeline, client: sync.oauthHubSpotClient())  // templates need an OAuth app
            try await sync.settle([worker], mapping: timeline)
            try await sync.identify("u13", #"{"email":"tl@example.com"}"#)
            try await sync.oneSignalEvent("message.push.failed", externalID: "u13")
            try await sync.settle([worker], mapping: timeline, timeout: .seconds(30))
            let entries = sync.sandbox.timelineEvents()
            #expect(entries.count == 1)
            #expect(entries.first?.eventTemplateID == "1001298")
            #expect(entries.first?.tokens["kind"] == "failed")
        }
        #expect(throws: MappingError.self) { try Mapping.parse("hubspot_timeline:\n  mode: timeline_event\n") }
    }

    @Test func anAudiencePropertyIsCreatedOnFirstUseAndFollowsEntryAndExit() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.identify("u14", #"{"email":"aud@example.com"}"#)
            try await sync.projection.append(
                .track,
                #"{"type":"track","userId":"u14","event":"Audience Entered","properties":{"audience_key":"Trial Users"},"messageId":"a1"}"#)
            try await sync.settle([worker])
            let property = try #require(sync.sandbox.properties(of: "contacts").first { $0.name == "trial_users" })
            #expect(property.type.rawValue == "bool")
            #expect(sync.sandbox.contact(email: "aud@example.com")?["trial_users"] == "true")

            try await sync.projection.append(
                .track,
                #"{"type":"track","userId":"u14","event":"Audience Exited","properties":{"audience_key":"Trial Users"},"messageId":"a2"}"#)
            try await sync.settle([worker])
            #expect(sync.sandbox.contact(email: "aud@example.com")?["trial_users"] == "false")
            #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/properties/contacts").count == 1)
        }
    }

    @Test func hubSpotReportingHubSignalsOwnWriteDoesNotBounceBack() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.identify("u15", #"{"email":"echo@example.com","firstName":"Echo"}"#)
            try await sync.settle([worker])
            let contact = try #require(sync.sandbox.contact(email: "echo@example.com"))
            let calls = sync.upsertCalls()
            // HubSpot's webhook reports the change HubSignal just made (changeSource INTEGRATION), and a change a user
            // made in HubSpot's UI to another property.
            for (index, change) in [("firstname", "Echo", "INTEGRATION"), ("jobtitle", "CTO", "CRM_UI")].enumerated() {
                try await sync.projection.append(
                    .hubSpotContactPropertyChange,
                    #"{"eventId":\#(100 + index),"subscriptionId":1,"portalId":12345678,"occurredAt":1790000000000,"subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":\#(contact.id),"propertyName":"\#(change.0)","propertyValue":"\#(change.1)","changeSource":"\#(change.2)"}"#,
                    source: .hubspot)
            }
            try await sync.settle([worker])
            #expect(sync.upsertCalls() == calls)
            #expect(try await sync.projection.strings("SELECT state FROM sync_status WHERE destination = 'hubspot'") == ["in_sync"])
            #expect(try await sync.projection.strings("SELECT hubspot_values->>'jobtitle' FROM contacts") == ["CTO"])
        }
    }

    /// Runs rounds until one claims nothing; returns the objects claimed.
    static func drain(_ worker: HubSpotSync) async throws -> Int {
        var total = 0
        while true {
            let claimed = try await worker.runOnce()
            if claimed == 0 { return total }
            total += claimed
        }
    }
}
