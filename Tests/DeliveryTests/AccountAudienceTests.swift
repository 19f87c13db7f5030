import Delivery
import Domain
import Foundation
import HubSpotSandbox
import Mapping
import Testing
import TestSupport

/// Issue 22 item 10 against the HubSpot sandbox: Segment Engage account-level audiences (a group call per account with
/// `traits[audience_key]` and `context.personas`) become company properties, as person audiences become contact
/// properties.
@Suite(.timeLimit(.minutes(3)))
struct AccountAudienceTests {
    func accountAudience(_ key: String, member: Bool, groupID: String, userID: String) -> String {
        #"""
        {"type":"group","userId":"\#(userID)","groupId":"\#(groupID)","traits":{"\#(key)":\#(member)},
         "context":{"personas":{"computation_class":"audience","computation_key":"\#(key)","computation_id":"aud_1","space_id":"spa_1"}},
         "messageId":"\#(UUID())"}
        """#
    }

    @Test func anAccountAudienceBecomesACompanyPropertyAndLeavingItClearsTheFlag() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("u1", #"{"email":"ada@example.com"}"#)
            try await sync.group("u1", groupID: "g-1", #"{"name":"Acme"}"#)
            try await sync.projection.append(.group, accountAudience("high_value_accounts", member: true, groupID: "g-1", userID: "u1"))
            try await sync.settle([sync.worker()])

            let company = try #require(sync.sandbox.companies().first { $0["segment_group_id"] == "g-1" })
            #expect(company["high_value_accounts"] == "true")
            #expect(company["name"] == "Acme")
            let property = try #require(sync.sandbox.properties(of: "companies").first { $0.name == "high_value_accounts" })
            #expect(property.type.rawValue == "bool")
            // A person audience property is not created for the contact: it is the account's audience.
            #expect(sync.sandbox.properties(of: "contacts").contains { $0.name == "high_value_accounts" } == false)

            try await sync.projection.append(.group, accountAudience("high_value_accounts", member: false, groupID: "g-1", userID: "u1"))
            try await sync.settle([sync.worker()])
            #expect(sync.sandbox.company(id: company.id)?["high_value_accounts"] == "false")
        }
    }

    @Test func aPlainBooleanGroupTraitIsNotAnAudience() async throws {
        try await SyncHarness.run { sync in
            try await sync.group("u2", groupID: "g-2", #"{"name":"Beta","is_enterprise":true}"#)
            try await sync.settle([sync.worker()])
            let company = try #require(sync.sandbox.companies().first { $0["segment_group_id"] == "g-2" })
            #expect(company["is_enterprise"] == nil)
            #expect(sync.sandbox.properties(of: "companies").contains { $0.name == "is_enterprise" } == false)
        }
    }

    @Test func accountChangesReadOnlyEngageGroupCalls() throws {
        let rules = AudienceRules.defaults
        let message = try JSONValue.parse(Array(accountAudience("trial_accounts", member: true, groupID: "g", userID: "u").utf8))
        #expect(rules.accountChanges(in: message) == [AudienceChange(audience: "trial_accounts", isMember: true)])
        #expect(AudienceRules(styles: [.aep]).accountChanges(in: message).isEmpty)
        let identify = try JSONValue.parse(Array(#"{"type":"identify","traits":{"trial_accounts":true},"context":{"personas":{"computation_class":"account","computation_key":"trial_accounts"}}}"#.utf8))
        #expect(rules.accountChanges(in: identify).isEmpty)
        // A user of an account in the audience: a person audience of that contact.
        #expect(rules.changes(in: identify) == [AudienceChange(audience: "trial_accounts", isMember: true)])
    }
}
