import Delivery
import Domain
import EventStore
import Foundation
import HubSpotSandbox
import Mapping
import OneSignal
import OneSignalSandbox
import PQ
import Testing
import TestSupport

/// Matching HubSpot contacts to OneSignal users (issue 22 item 4): a HubSpot contact property holding the OneSignal
/// external id (`onesignal.external_id_property`), for contacts HubSignal knows only from HubSpot.
@Suite("Contacts matched to OneSignal users by a HubSpot property", .serialized)
struct ContactMatchingTests {
    static let mapping = try! Mapping.parse(
        """
        version: 1
        onesignal:
          external_id_property: app_user_id
        hubspot_to_onesignal:
          properties: { lifecyclestage: lifecycle }
        """)

    static func propertyChange(objectID: String, _ name: String, _ value: String) -> String {
        #"{"eventId":\#(Int.random(in: 1...1_000_000_000)),"subscriptionType":"contact.propertyChange","objectId":\#(objectID),"propertyName":"\#(name)","propertyValue":"\#(value)","occurredAt":1790000000000,"portalId":1}"#
    }

    @Test("the mapping option is read, checked and shown; it adds the property to HubSpot's webhook subscriptions")
    func mappingOption() throws {
        #expect(Self.mapping.oneSignal.externalIDProperty == "app_user_id")
        #expect(Self.mapping.subscribedContactProperties == ["app_user_id", "lifecyclestage"])
        #expect(Mapping.defaults.oneSignal.externalIDProperty == nil)
        #expect(throws: MappingError.self) { try Mapping.parse("version: 1\nonesignal:\n  external_id_property: \"App User Id!\"\n") }
        #expect(Mapping.defaults.version != Self.mapping.version)
    }

    @Test("the external id property's change names the contact by its external id; other properties do not")
    func identityRule() {
        let rule = IdentityKeys.hubSpotContactWebhook(externalIDProperty: "app_user_id")
        let payload = try! JSONValue.parse(Array(Self.propertyChange(objectID: "777", "app_user_id", "os-9").utf8)).objectValue!
        let names = rule.names(in: payload, type: .hubSpotContactPropertyChange).map { "\($0.name.rawValue)=\($0.value)" }
        #expect(names == ["hubspot_id=777", "external_id=os-9"])
        let other = try! JSONValue.parse(Array(Self.propertyChange(objectID: "777", "firstname", "os-9").utf8)).objectValue!
        #expect(rule.names(in: other, type: .hubSpotContactPropertyChange).map(\.name) == [.hubSpotID])
        #expect(IdentityKeys.hubSpotContactWebhook(externalIDProperty: nil) == IdentityKeys.hubSpotContactWebhook)
    }

    @Test("a contact that exists only in HubSpot gets its tags, a workflow notification, and its message events")
    func hubSpotOnlyContact() async throws {
        try await OneSignalHarness.run { harness in
            let mapping = Self.mapping
            try harness.sandbox.seedUser(
                appID: harness.appID, externalID: "os-ext-9", subscriptions: [.init(type: "AndroidPush", token: "token-os-ext-9")])
            let worker = harness.worker(mapping: mapping)
            for (name, value) in [("email", "hs-only@example.com"), ("app_user_id", "os-ext-9"), ("lifecyclestage", "lead")] {
                try await harness.projection.append(
                    .hubSpotContactPropertyChange, Self.propertyChange(objectID: "777", name, value), source: .hubspot)
            }
            try await harness.settle([worker], mapping: mapping)
            #expect(harness.tags("os-ext-9") == ["lifecycle": "lead"])
            #expect(
                try await harness.projection.strings("SELECT state FROM sync_status WHERE destination = 'onesignal'") == ["in_sync"])

            try await harness.workflowAction("send_notification", callbackID: "ap-match-1", objectID: "777", inputs: #"{"content":"Welcome"}"#)
            try await harness.settle([worker], mapping: mapping)
            let sent = harness.sandbox.notifications(appID: harness.appID)
            #expect(sent.map(\.recipientExternalIDs) == [["os-ext-9"]])
            #expect(harness.hubSpot.callbackCompletions().first?.outputFields["hs_execution_state"] == "SUCCESS")

            // OneSignal's event stream names the user by its external id: the event lands on the HubSpot contact.
            try await harness.projection.append(
                .oneSignal("message.push.clicked"),
                #"{"event_id":"ev-9","kind":"message.push.clicked","external_id":"os-ext-9","onesignal_id":"os-id-9","message_id":"\#(sent.first?.id ?? "")","app_id":"\#(harness.appID)"}"#,
                source: .onesignal)
            try await harness.projection.project(mapping)
            let owners = try await harness.projection.strings(
                """
                SELECT c.hubspot_contact_id FROM message_activity m JOIN contacts c USING (contact_id)
                WHERE m.activity = 'clicked'
                """)
            #expect(owners == ["777"])
            #expect(try await harness.projection.count("SELECT count(*) FROM contacts") == 1)
        }
    }

    @Test("without the option the same contact waits: nothing identifies it to OneSignal")
    func withoutTheOptionTheContactWaits() async throws {
        try await OneSignalHarness.run { harness in
            let worker = harness.worker()
            for (name, value) in [("app_user_id", "os-ext-9"), ("lifecyclestage", "lead")] {
                try await harness.projection.append(
                    .hubSpotContactPropertyChange, Self.propertyChange(objectID: "777", name, value), source: .hubspot)
            }
            try await harness.settle([worker])
            #expect(harness.tags("os-ext-9") == nil)
            #expect(harness.userWrites().isEmpty)
        }
    }

    @Test("a message event of a property-matched contact reaches that HubSpot contact's timeline")
    func messageEventOnTheTimeline() async throws {
        try await SyncHarness.run { sync in
            let mapping = Self.mapping
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)  // the outbox starts at the end of the log
            let contact = try sync.sandbox.seedObject(ofType: "contacts", properties: ["email": "hs-only@example.com"])
            try await sync.projection.append(
                .hubSpotContactPropertyChange, Self.propertyChange(objectID: contact.id, "app_user_id", "os-ext-9"), source: .hubspot)
            try await sync.settle([worker], mapping: mapping)
            try await sync.oneSignalEvent("message.push.clicked", externalID: "os-ext-9")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let notes = sync.sandbox.notes(forContact: contact.id)
            #expect(notes.count == 1)
            #expect(notes.first?["hs_note_body"]?.contains("OneSignal push clicked") == true)
        }
    }
}
