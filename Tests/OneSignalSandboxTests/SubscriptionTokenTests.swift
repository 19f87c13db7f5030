import OneSignalSandbox
import Testing

/// An SMS subscription's token must be an E.164 number and an email subscription's an address (OneSignal's
/// "Subscriptions" page: the phone number "must be in E.164 format"): a lenient sandbox would store a local number
/// that OneSignal refuses, and a sync's create would pass here and fail for real.
@Suite("Subscription tokens: E.164 phone numbers, email addresses")
struct SubscriptionTokenTests {
    @Test(arguments: [
        #"{"type":"SMS","token":"020 7946 0958"}"#, #"{"type":"SMS","token":"+44 20 7946 0958"}"#, #"{"type":"SMS","token":"442079460958"}"#,
        #"{"type":"Email","token":"ada.example.com"}"#, #"{"type":"Email","token":"ada@localhost"}"#,
    ])
    func aCreateWithABadTokenIsRefused(_ subscription: String) async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"ada"},"subscriptions":[\#(subscription)]}"#)
            #expect(created.status == 400, "\(created.json)")
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "ada") == nil, "nothing is created")

            try sandbox.seedUser(appID: TestApps.a.id, externalID: "bob")
            let added = try await client.send(.POST, Paths.user("bob") + "/subscriptions", body: #"{"subscription":\#(subscription)}"#)
            #expect(added.status == 400, "\(added.json)")
        }
    }

    @Test func goodTokensAreAccepted() async throws {
        try await withSandbox { sandbox, client in
            let created = try await client.send(
                .POST, Paths.users(),
                body: #"{"identity":{"external_id":"ada"},"subscriptions":[{"type":"SMS","token":"+442079460958"},{"type":"Email","token":"ada@example.com"}]}"#)
            #expect([200, 201].contains(created.status), "\(created.json)")
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "ada")?.subscriptions.count == 2)
        }
    }
}
