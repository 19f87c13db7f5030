@testable import Delivery
import Domain
import Foundation
import Testing

@Suite struct RetryPolicyTests {
    @Test func delaysDoubleWithJitterUpToTheCapAndHonourAFloor() {
        let policy = RetryPolicy(initialDelay: .seconds(1), maximumDelay: .seconds(8), maximumAttempts: 5)
        for _ in 0..<50 {
            let first = policy.delay(afterAttempts: 1)
            #expect(first >= .milliseconds(500) && first <= .seconds(1))
            let third = policy.delay(afterAttempts: 3)
            #expect(third >= .seconds(2) && third <= .seconds(4))
            let capped = policy.delay(afterAttempts: 30)
            #expect(capped >= .seconds(4) && capped <= .seconds(8))
        }
        #expect(policy.delay(afterAttempts: 1, atLeast: .seconds(10)) == .seconds(10))
    }
}

@Suite struct HubSpotEventOutboxTests {
    @Test func idempotencyKeysAreUUIDsDerivedFromTheMessageID() {
        let uuid = HubSpotEventOutbox.uuid(from: "ajs-next-1700000000000-abc")
        #expect(UUID(uuidString: uuid) != nil)
        #expect(uuid == HubSpotEventOutbox.uuid(from: "ajs-next-1700000000000-abc"))
        #expect(uuid != HubSpotEventOutbox.uuid(from: "ajs-next-1700000000000-abd"))
        let given = "5E0C1B2A-1111-4222-8333-444455556666"
        #expect(HubSpotEventOutbox.uuid(from: given) == given.lowercased())
    }
}
