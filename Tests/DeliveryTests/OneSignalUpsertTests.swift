import Delivery
import Foundation
import OneSignal
import OneSignalSandbox
import SandboxKit
import Testing
import TestSupport

/// A user OneSignal never acknowledged costs one create-or-update (issue 22 item 13); what that create does to an
/// existing user's tags is checked in the answer, and updated when the answer does not show them.
@Suite("OneSignal create-or-update for users never acknowledged")
struct OneSignalUpsertTests {
    @Test("a new user is one POST with its tags; its next change is one PATCH")
    func newUserInOneCall() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.identify("fresh", #"{"plan":"trial","firstName":"Ada"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("fresh") == ["plan": "trial", "first_name": "Ada"])
            #expect(harness.userWrites().map(\.method) == ["POST"])
            let created = try await harness.projection.count(
                "SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.user_synced' AND (payload->>'created')::boolean")
            #expect(created == 1)

            try await Task.sleep(for: .seconds(1))
            try await harness.identify("fresh", #"{"plan":"pro"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("fresh") == ["plan": "pro", "first_name": "Ada"])
            #expect(harness.userWrites().map(\.method) == ["POST", "PATCH"])
        }
    }

    @Test("an existing user never acknowledged: one POST when OneSignal's answer shows the tags applied")
    func existingUserAnswerShowsTags() async throws {
        try await OneSignalHarness.run { harness in
            _ = try harness.sandbox.seedUser(appID: harness.appID, externalID: "sdk-user", tags: ["sdk_tag": "keep"])
            try await harness.identify("sdk-user", #"{"plan":"pro"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("sdk-user") == ["sdk_tag": "keep", "plan": "pro"])
            #expect(harness.userWrites().map(\.method) == ["POST"])
            let created = try await harness.projection.count(
                "SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.user_synced' AND (payload->>'created')::boolean")
            #expect(created == 0)
        }
    }

    /// A sandbox whose create leaves an existing user's properties alone: a client trusting the create alone would leave
    /// the user without its tags and record them as acknowledged.
    @Test("an existing user whose create answer does not show the tags gets them by an update")
    func existingUserCreateWithoutProperties() async throws {
        try await OneSignalHarness.run { harness in
            var configuration = OneSignalSandbox.Configuration(appID: harness.appID, apiKey: harness.apiKey)
            configuration.createAppliesPropertiesToExistingUsers = false
            let strict = OneSignalSandbox(configuration: configuration)
            _ = try await strict.start()
            do {
                _ = try strict.seedUser(appID: harness.appID, externalID: "sdk-user", tags: ["sdk_tag": "keep"])
                let client = OneSignalClient(
                    configuration: .init(baseURL: strict.baseURL!.absoluteString, appID: harness.appID, apiKey: harness.apiKey),
                    logger: TestPostgres.logger)
                try await harness.identify("sdk-user", #"{"plan":"pro"}"#)
                try await harness.settle([harness.worker(client: client)])
                #expect(strict.user(appID: harness.appID, externalID: "sdk-user")?.tags == ["sdk_tag": "keep", "plan": "pro"])
                let writes = strict.requests.all.filter { $0.path.contains("/users") }.map(\.method)
                #expect(writes == ["POST", "PATCH"])
            } catch {
                await strict.stop()
                throw error
            }
            await strict.stop()
        }
    }

    @Test("an acknowledged user OneSignal no longer has is updated (404), then created")
    func acknowledgedUserDeletedInOneSignal() async throws {
        try await OneSignalHarness.run { harness in
            try await harness.identify("gone", #"{"plan":"trial"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.userWrites().map(\.method) == ["POST"])
            try await Task.sleep(for: .seconds(1))
            try await harness.oneSignalClient().deleteUser(.externalID("gone"))
            try await Task.sleep(for: .seconds(1))
            try await harness.identify("gone", #"{"plan":"pro"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.tags("gone") == ["plan": "pro"])
            #expect(harness.userWrites().map(\.method) == ["POST", "PATCH", "POST"])
        }
    }

    @Test("holds: every set value present, every removal absent or empty; no tags in the answer holds nothing")
    func holds() {
        let answer = OneSignalClient.UpsertedUser(status: 202, oneSignalID: nil, tags: ["a": "1", "b": ""])
        #expect(answer.holds(["a": "1", "b": nil, "c": nil]))
        #expect(!answer.holds(["a": "2"]))
        #expect(!answer.holds(["d": "1"]))
        #expect(!OneSignalClient.UpsertedUser(status: 201, oneSignalID: nil, tags: nil).holds(["a": "1"]))
        #expect(OneSignalClient.UpsertedUser(status: 201, oneSignalID: nil, tags: nil).holds([:]))
        #expect(!answer.isNew)
        #expect(OneSignalClient.UpsertedUser(status: 200, oneSignalID: nil, tags: nil).isNew)
    }
}
