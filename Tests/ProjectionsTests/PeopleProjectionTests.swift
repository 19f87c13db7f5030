import Domain
import EventStore
import Foundation
import Mapping
import PQ
@testable import Projections
import TestSupport
import Testing

@Suite struct PeopleProjectionTests {
    @Test func anonymousThenIdentifiedThenEmailedIsOneContact() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let first = try await log.append(.track, #"{"type":"track","event":"Viewed","anonymousId":"anon-1"}"#)
            try await log.project()
            #expect(try await log.strings("SELECT contact_id FROM contacts") == ["c_\(first)"])

            try await log.append(.identify, #"{"type":"identify","userId":"u1","anonymousId":"anon-1","traits":{"firstName":"Ada"}}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":" Ada@Example.COM "}}"#)
            try await log.project()

            let rows = try await log.client.query(
                "SELECT contact_id, user_id, email, traits->>'firstName', hubspot_properties->>'email', hubspot_properties->>'firstname' FROM contacts")
            #expect(rows.count == 1)
            let (id, userID, email, firstName, hubSpotEmail, hubSpotFirstName) = try rows[0].decode(
                (String, String?, String?, String?, String?, String?).self)
            #expect(id == "c_\(first)")
            #expect(userID == "u1")
            #expect(email == "ada@example.com")
            #expect(firstName == "Ada")
            #expect(hubSpotEmail != nil)
            #expect(hubSpotFirstName == "Ada")
            let identities = try await log.strings("SELECT kind || ':' || value FROM identities WHERE contact_id = \(id) ORDER BY 1")
            #expect(identities == ["anonymous_id:anon-1", "email:ada@example.com", "user_id:u1"])
            #expect(try await log.count("SELECT count(*) FROM contact_merges") == 0)
        }
    }

    @Test func overlongEmailsAndWebsitesAreTraitsNotIdentitiesAndNeverStallTheProjection() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            // Random text does not compress: an index entry for it would exceed PostgreSQL's limit (~2.7 KB).
            let long = (0..<140).map { _ in UUID().uuidString.lowercased() }.joined()
            try await log.append(.identify, #"{"type":"identify","userId":"u-long","traits":{"email":"\#(long)@example.com"}}"#)
            try await log.append(
                .group, #"{"type":"group","userId":"u-long","groupId":"g-long","traits":{"website":"https://\#(long).example.com"}}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"u-next","traits":{"email":"next@example.com"}}"#)
            try await log.project()
            #expect(try await log.strings("SELECT user_id FROM contacts ORDER BY user_id") == ["u-long", "u-next"])
            #expect(try await log.count("SELECT count(*) FROM contacts WHERE user_id = 'u-long' AND email IS NULL AND length(traits->>'email') > 5000") == 1)
            #expect(try await log.count("SELECT count(*) FROM identities WHERE kind = 'email'") == 1)
            #expect(try await log.count("SELECT count(*) FROM companies WHERE group_id = 'g-long' AND domain IS NULL") == 1)
        }
    }

    @Test func aliasMergesIntoTheOlderContactAndIsRecorded() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let older = try await log.append(.identify, #"{"type":"identify","userId":"old-id","traits":{"plan":"pro"}}"#)
            try await log.project()
            let newer = try await log.append(.identify, #"{"type":"identify","userId":"new-id","traits":{"name":"Grace"}}"#)
            try await log.append(.alias, #"{"type":"alias","previousId":"old-id","userId":"new-id"}"#)
            try await log.project()

            #expect(try await log.strings("SELECT contact_id FROM contacts") == ["c_\(older)"])
            let merge = try await log.client.query("SELECT merged_contact_id, into_contact_id, reason FROM contact_merges")
            #expect(merge.count == 1)
            #expect(try merge[0].decode((String, String, String).self) == ("c_\(newer)", "c_\(older)", "alias"))
            #expect(try await log.strings("SELECT DISTINCT contact_id FROM identities") == ["c_\(older)"])
            let traits = try await log.strings("SELECT traits::text FROM contacts")
            #expect(traits.first?.contains("Grace") == true && traits.first?.contains("pro") == true)

            // Later events for either id land on the surviving contact.
            try await log.append(.track, #"{"type":"track","event":"Paid","userId":"new-id"}"#)
            try await log.project()
            #expect(try await log.count("SELECT count(*) FROM contacts") == 1)
        }
    }

    @Test func anEmailSharedByTwoUserIDsMergesThem() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let first = try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"pat@example.com"}}"#)
            let second = try await log.append(.identify, #"{"type":"identify","userId":"u2"}"#)
            try await log.project()
            #expect(try await log.count("SELECT count(*) FROM contacts") == 2)
            try await log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"PAT@example.com"}}"#)
            try await log.project()
            #expect(try await log.strings("SELECT contact_id FROM contacts") == ["c_\(first)"])
            let merge = try await log.client.query("SELECT merged_contact_id, reason FROM contact_merges")
            #expect(try merge.map { try $0.decode((String, String).self) }.map { "\($0.0) \($0.1)" } == ["c_\(second) email"])
            #expect(try await log.count("SELECT count(*) FROM identities WHERE kind = 'user_id' AND contact_id = \("c_\(first)")") == 2)
        }
    }

    @Test func aSharedDeviceMovesTheAnonymousIDWithoutMergingTwoPeople() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"alice","anonymousId":"tablet"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"bob","anonymousId":"tablet"}"#)
            try await log.project()
            #expect(try await log.count("SELECT count(*) FROM contacts") == 2)
            #expect(try await log.count("SELECT count(*) FROM contact_merges") == 0)
            let owner = try await log.strings(
                "SELECT c.user_id FROM identities i JOIN contacts c USING (contact_id) WHERE i.kind = 'anonymous_id' AND i.value = 'tablet'")
            #expect(owner == ["bob"])
        }
    }

    @Test func groupCreatesACompanyWithDomainAndAssociation() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"u1@acme.com"}}"#)
            let group = try await log.append(
                .group,
                #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme","website":"https://www.acme.com/about","industry":"Tools"}}"#)
            try await log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"employees":40}}"#)
            try await log.project()
            let company = try await log.client.query("SELECT company_id, group_id, domain, name, traits->>'employees' FROM companies")
            #expect(company.count == 1)
            let row = try company[0].decode((String, String, String?, String?, String?).self)
            #expect("\(row.0) \(row.1) \(row.2 ?? "-") \(row.3 ?? "-") \(row.4 ?? "-")" == "co_\(group) g-1 acme.com Acme 40")
            let links = try await log.client.query(
                "SELECT c.user_id, cc.company_id FROM contact_companies cc JOIN contacts c USING (contact_id)")
            #expect(try links.map { try $0.decode((String, String).self) }.map { "\($0.0) \($0.1)" } == ["u1 co_\(group)"])

            // A HubSpot company id learned from the sync is kept.
            try await log.append(.hubSpotCompanySynced, #"{"groupId":"g-1","hubspotId":"9001"}"#, source: .hubsignal)
            try await log.project()
            #expect(try await log.strings("SELECT hubspot_company_id FROM companies") == ["9001"])
        }
    }

    @Test func aDomainTiesGroupIDsToOneCompanyAndMergesCompanies() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let first = try await log.append(
                .group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme","website":"acme.com"}}"#)
            // A new group id with a known domain is the same company.
            try await log.append(
                .group, #"{"type":"group","userId":"u2","groupId":"g-2","traits":{"website":"https://www.acme.com"}}"#)
            // A third company, later found to share the domain: merged into the older one, links and all.
            let third = try await log.append(
                .group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"name":"Acme EU","website":"acme.eu"}}"#)
            try await log.project()
            #expect(try await log.count("SELECT count(*) FROM companies") == 2)
            try await log.append(
                .group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"website":"acme.com"}}"#)
            try await log.project()

            #expect(try await log.strings("SELECT company_id FROM companies") == ["co_\(first)"])
            let identities = try await log.strings(
                "SELECT kind || ':' || value FROM company_identities WHERE company_id = \("co_\(first)") ORDER BY 1")
            #expect(identities == ["domain:acme.com", "domain:acme.eu", "group_id:g-1", "group_id:g-2", "group_id:g-3"])
            let merges = try await log.client.query("SELECT merged_company_id, into_company_id, reason FROM company_merges")
            #expect(try merges.map { try $0.decode((String, String, String).self) }.map { "\($0.0) \($0.1) \($0.2)" } == [
                "co_\(third) co_\(first) domain"
            ])
            let links = try await log.strings(
                "SELECT c.user_id || ' ' || cc.company_id FROM contact_companies cc JOIN contacts c USING (contact_id) ORDER BY 1")
            #expect(links == ["u1 co_\(first)", "u2 co_\(first)", "u3 co_\(first)"])

            // The same model comes back from a rebuild.
            try await ProjectionRebuild(store: log.store, mapping: .defaults, logger: TestPostgres.logger).run()
            #expect(try await log.strings("SELECT company_id FROM companies") == ["co_\(first)"])
            #expect(try await log.strings(
                "SELECT c.user_id || ' ' || cc.company_id FROM contact_companies cc JOIN contacts c USING (contact_id) ORDER BY 1") == links)
        }
    }

    @Test func audiencesEnterAndExitInEngageAndAEPStyles() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(
                .identify,
                #"{"type":"identify","userId":"u1","traits":{"big_spenders":true},"context":{"personas":{"computation_class":"audience","computation_key":"big_spenders","computation_id":"aud_1","space_id":"spa_1"}}}"#)
            try await log.append(
                .track,
                #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk","churn_risk":true},"context":{"personas":{"computation_class":"audience","computation_key":"churn_risk"}}}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"summer_sale":"realized"}}"#)
            try await log.project()
            var rows = try await log.client.query(
                "SELECT audience, is_member, style, status, entered_at IS NOT NULL FROM audience_memberships ORDER BY audience")
            #expect(try rows.map { try $0.decode((String, Bool, String, String?, Bool).self) }.map { "\($0.0) \($0.1) \($0.2) \($0.3 ?? "-") \($0.4)" } == [
                "big_spenders true engage - true", "churn_risk true engage - true", "summer_sale true aep realized true",
            ])

            try await log.append(
                .track,
                #"{"type":"track","userId":"u1","event":"Audience Exited","properties":{"audience_key":"churn_risk","churn_risk":false},"context":{"personas":{"computation_class":"audience","computation_key":"churn_risk"}}}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"summer_sale":"exited"}}"#)
            try await log.project()
            rows = try await log.client.query(
                "SELECT audience, is_member, exited_at IS NOT NULL FROM audience_memberships WHERE audience <> 'big_spenders' ORDER BY audience")
            #expect(try rows.map { try $0.decode((String, Bool, Bool).self) }.map { "\($0.0) \($0.1) \($0.2)" } == [
                "churn_risk false true", "summer_sale false true",
            ])
        }
    }

    @Test func oneSignalEventsAndWorkflowRequestsBecomeMessageActivity() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"u1@example.com"}}"#)
            try await log.append(
                .hubSpotContactPropertyChange,
                #"{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":501,"propertyName":"email","propertyValue":"u1@example.com","occurredAt":1790000000000}"#,
                source: .hubspot)
            try await log.append(
                .sendNotification,
                #"{"callbackId":"cb-1","object":{"objectId":501,"objectType":"CONTACT"},"inputFields":{"message":"Hi"}}"#, source: .hubspot)
            try await log.append(
                EventType.oneSignal("message.push.clicked"),
                #"{"event_id":"ev-1","kind":"message.push.clicked","external_id":"u1","onesignal_id":"os-9","subscription_id":"sub-1","message_id":"n-1","app_id":"app-a"}"#,
                source: .onesignal)
            try await log.project()

            #expect(try await log.count("SELECT count(*) FROM contacts") == 1)
            #expect(try await log.strings("SELECT hubspot_contact_id FROM contacts") == ["501"])
            #expect(try await log.strings("SELECT onesignal_id FROM contacts") == ["os-9"])
            let activity = try await log.client.query(
                "SELECT activity, kind, notification_id, (contact_id IS NOT NULL) FROM message_activity ORDER BY position")
            #expect(try activity.map { try $0.decode((String, String, String?, Bool).self) }.map { "\($0.0) \($0.1) \($0.2 ?? "-") \($0.3)" } == [
                "requested hubspot.action.send_notification - true", "clicked message.push.clicked n-1 true",
            ])
            #expect(try await log.strings("SELECT app || ' ' || device_key || ' ' || channel FROM devices") == ["app-a sub-1 push"])
        }
    }
}
