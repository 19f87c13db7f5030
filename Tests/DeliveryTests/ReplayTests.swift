import Delivery
import Domain
import EventStore
import Foundation
import Mapping
import Operations
import PQ
import Testing
import TestSupport

@Suite("hubsignal replay: contacts pushed again in full, once, by an event in the log", .serialized)
struct ReplayTests {
    @Test("HubSpot: a replayed contact is upserted again with every desired property; the others are not")
    func hubSpot() async throws {
        try await SyncHarness.run { sync in
            let worker = sync.worker()
            try await sync.identify("r1", #"{"email":"r1@example.com","firstName":"Ada","lastName":"L"}"#)
            try await sync.identify("r2", #"{"email":"r2@example.com","firstName":"Bob"}"#)
            try await sync.settle([worker])
            let before = try sync.upsertInputs().count
            let replay = Replay(client: sync.client, store: sync.projection.store)
            let contacts = try await replay.contacts(.contacts(["c_1", "c_404"]))
            #expect(contacts == ["c_1"])
            try await replay.request(destination: "hubspot", contactIDs: contacts)
            try await sync.settle([worker])
            let inputs = try sync.upsertInputs()
            #expect(inputs.count == before + 1)
            let properties = inputs.last?["properties"] as? [String: String]
            #expect(properties?["firstname"] == "Ada")
            #expect(properties?["lastname"] == "L")
            #expect(properties?["email"] == "r1@example.com")
            #expect(try await sync.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.replay_requested'") == 1)
            // Nothing else is pending afterwards: the replay went out once.
            try await sync.settle([worker])
            #expect(try sync.upsertInputs().count == before + 1)
        }
    }

    @Test("OneSignal: a replay of the contacts seen in a window rewrites their tags; a wrong destination is refused")
    func oneSignal() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(appID: harness.appID, externalID: "u1")
            try await harness.identify("u1", #"{"plan":"pro","city":"Oslo"}"#)
            try await harness.settle([harness.worker()])
            let writes = harness.userWrites().count
            let replay = Replay(client: harness.client, store: harness.projection.store)
            let window = try await replay.contacts(.seen(since: Date(timeIntervalSince1970: 0), until: Date.distantFuture))
            #expect(window.count == 1)
            try await replay.request(destination: "onesignal:default", contactIDs: window)
            try await Task.sleep(for: .seconds(1))  // OneSignal's one write per second per user
            try await harness.settle([harness.worker()])
            let all = harness.userWrites()
            #expect(all.count == writes + 1)
            // A replay forgets what OneSignal acknowledged: the push is a create-or-update (identity and tags).
            let body = try JSONSerialization.jsonObject(with: all.last!.body) as? [String: Any]
            #expect((body?["properties"] as? [String: Any])?["tags"] as? [String: String] == ["plan": "pro", "city": "Oslo"])
            await #expect(throws: ReplayError.self) { try await replay.request(destination: "mailchimp", contactIDs: window) }
        }
    }
}
