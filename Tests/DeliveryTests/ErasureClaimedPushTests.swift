@testable import Delivery
import Domain
import EventStore
import Foundation
import Operations
import PQ
import Testing
import TestSupport

/// A HubSpot push claimed before an erasure and not yet sent is not sent: a privacy deletion must not be followed by
/// the contact coming back at HubSpot (issue 18, item 9).
@Suite struct ErasureClaimedPushTests {
    @Test func aContactClaimedBeforeTheErasureIsNotPushed() async throws {
        try await SyncHarness.run { harness in
            try await harness.identify("ada-lovelace-1815", #"{"email":"ada.lovelace@example.com","firstName":"Augusta"}"#)
            try await harness.identify("bob-builder-1", #"{"email":"bob@example.com","firstName":"Bob"}"#)
            try await harness.projection.project()
            let worker = harness.worker()
            let claimed = try await worker.ledger.claimHubSpotContacts(limit: 10, linger: .zero, lease: .seconds(60), owner: "test-worker")
            #expect(claimed.count == 2)
            // The erasure commits while the worker holds both contacts, then waits for the worker's outcome.
            let store = harness.projection.store
            let client = harness.client
            let erasing = Task { try await Erasure(client: client, store: store).erase(.userID("ada-lovelace-1815")) }
            let deadline = ContinuousClock.now + .seconds(30)
            while try await harness.projection.count("SELECT count(*) FROM events WHERE type = 'hubsignal.erasure'") == 0 {
                try #require(ContinuousClock.now < deadline, "the erasure did not commit")
                try await Task.sleep(for: .milliseconds(10))
            }
            var round = HubSpotSync.Round()
            await worker.push(claimed, into: &round)
            try await worker.ledger.finish(
                kind: .contact, outcomes: round.outcomes, events: round.events, owner: "test-worker", store: store)
            _ = try await erasing.value
            #expect(harness.sandbox.contact(email: "ada.lovelace@example.com") == nil)
            #expect(harness.sandbox.contact(email: "bob@example.com") != nil)
            try await harness.projection.project()
            let left = try await ErasureTests.mentions(harness.client, ["ada-lovelace-1815", "ada.lovelace@example.com", "Augusta"])
            #expect(left == [:])
        }
    }
}
