import Delivery
import Foundation
import Mapping
import OneSignalSandbox
import Testing
import TestSupport

/// Segment's OneSignal destination's behaviour, selectable (issue 22 item 12): `onesignal.unmatched_users: skip` leaves
/// contacts without a OneSignal user out instead of creating them; `onesignal.subscriptions` creates email and SMS
/// subscriptions from traits with the user.
@Suite("Segment → OneSignal defaults: unmatched users skipped, subscriptions from traits")
struct OneSignalDefaultsSyncTests {
    @Test("unmatched_users: skip updates users OneSignal has, creates none, and says why for the others")
    func unmatchedUsersAreSkipped() async throws {
        let mapping = try Mapping.parse("onesignal: { unmatched_users: skip, track_properties: all }")
        try await OneSignalHarness.run { harness in
            _ = try harness.sandbox.seedUser(appID: harness.appID, externalID: "sdk-user", tags: ["sdk_tag": "keep"])
            try await harness.identify("sdk-user", #"{"plan":"pro"}"#)
            try await harness.identify("no-app-yet", #"{"plan":"trial"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)

            #expect(harness.tags("sdk-user") == ["sdk_tag": "keep", "plan": "pro"])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "no-app-yet") == nil, "no user is created")
            #expect(harness.userWrites().allSatisfy { $0.method == "PATCH" }, "\(harness.userWrites().map(\.method))")
            let reasons = try await harness.client.query(
                "SELECT last_error FROM deliveries WHERE destination = 'onesignal' AND state = 'dead'"
            ).map { try $0.decode(String.self) }
            #expect(reasons.count == 1)
            #expect(reasons.first?.contains("no user with external id no-app-yet") == true)
            #expect(reasons.first?.contains("unmatched_users is skip") == true)
            let failed = try await harness.projection.count(
                "SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.delivery_failed' AND payload->>'reason' LIKE '%unmatched_users%'")
            #expect(failed == 1, "the skip is recorded in the log")

            // Once the app's SDK made the user, the contact's next change reaches it.
            _ = try harness.sandbox.seedUser(appID: harness.appID, externalID: "no-app-yet", tags: [:])
            try await Task.sleep(for: .seconds(1))
            try await harness.identify("no-app-yet", #"{"plan":"pro"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)
            #expect(harness.tags("no-app-yet") == ["plan": "pro"])
        }
    }

    @Test("the default creates the user (the same contact, without the option)")
    func theDefaultCreatesUsers() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.identify("no-app-yet", #"{"plan":"trial"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("no-app-yet") == ["plan": "trial"])
        }
    }

    @Test("subscriptions: [email, sms] creates the email and the E.164 phone with the user; a local number is left out")
    func subscriptionsFromTraits() async throws {
        let mapping = try Mapping.parse("onesignal: { subscriptions: [email, sms] }")
        try await OneSignalHarness.run { harness in
            try await harness.identify("ada", #"{"email":"Ada@Example.com","phone":"+44 20 7946 0958","plan":"pro"}"#)
            try await harness.identify("bob", #"{"email":"bob@example.com","phone":"020 7946 0000","plan":"basic"}"#)
            try await harness.settle([harness.worker(mapping: mapping)], mapping: mapping)

            let ada = try #require(harness.sandbox.user(appID: harness.appID, externalID: "ada"))
            #expect(Set(ada.subscriptions.map { "\($0.type)=\($0.token ?? "")" }) == ["Email=ada@example.com", "SMS=+442079460958"])
            #expect(ada.tags == ["plan": "pro"], "email and phone are subscriptions, not tags")
            let bob = try #require(harness.sandbox.user(appID: harness.appID, externalID: "bob"))
            #expect(bob.subscriptions.map(\.type) == ["Email"])
        }
    }

    @Test("without the option no subscription is created")
    func noSubscriptionsByDefault() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.identify("ada", #"{"email":"ada@example.com","phone":"+442079460958","plan":"pro"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.sandbox.user(appID: harness.appID, externalID: "ada")?.subscriptions.isEmpty == true)
        }
    }
}
