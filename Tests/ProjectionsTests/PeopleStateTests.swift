import Domain
@testable import EventStore
import Foundation
import Ingestion
import Mapping
import PQ
@testable import Projections
import Testing

/// `PeopleState.apply` without a database: given the events before (the state they built), an event, and the state it
/// leaves — what a rebuild does in memory, checked in milliseconds.
@Suite struct PeopleStateTests {
    // MARK: - Identity merging

    @Test func anonymousActivityThenAnIdentifyThenAnEmailIsOneContact() {
        var log = PeopleLog()
        let first = log.append(.track, #"{"type":"track","event":"Viewed","anonymousId":"anon-1"}"#)
        log.append(.identify, #"{"type":"identify","userId":"u1","anonymousId":"anon-1","traits":{"firstName":"Ada"}}"#)
        log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":" Ada@Example.COM "}}"#)

        #expect(log.contactIDs == ["c_\(first)"])
        let contact = log.contact(.userID("u1"))
        #expect(contact?.userID == "u1")
        #expect(contact?.email == "ada@example.com")
        #expect(contact?.traits["firstName"] == .string("Ada"))
        #expect(log.identities(of: "c_\(first)") == ["anonymous_id:anon-1", "email:ada@example.com", "user_id:u1"])
        #expect(log.state.identities[.email("ada@example.com")]?.firstPosition == 3)
        #expect(log.state.merges.isEmpty)
    }

    @Test func anAliasMergesTheNewerContactIntoTheOlderAndLaterCallsFollowIt() {
        var log = PeopleLog()
        let older = log.append(.identify, #"{"type":"identify","userId":"old-id","traits":{"plan":"pro"}}"#)
        let newer = log.append(.identify, #"{"type":"identify","userId":"new-id","traits":{"name":"Grace"}}"#)
        let alias = log.append(.alias, #"{"type":"alias","previousId":"old-id","userId":"new-id"}"#)

        #expect(log.contactIDs == ["c_\(older)"])
        #expect(log.merges == ["c_\(newer) → c_\(older) alias @\(alias)"])
        #expect(log.state.redirects == ["c_\(newer)": "c_\(older)"])
        #expect(!log.state.dirtyContacts.contains("c_\(newer)"))
        #expect(log.identities(of: "c_\(older)") == ["anonymous_id:old-id", "user_id:new-id", "user_id:old-id"])
        let contact = log.state.contacts["c_\(older)"]
        #expect(contact?.userID == "new-id")
        #expect(contact?.traits == ["plan": .string("pro"), "name": .string("Grace")])

        // After a flush the merge is written, but the redirect stays: calls naming either id land on the survivor.
        log.state.clearChanges()
        let paid = log.append(.track, #"{"type":"track","event":"Paid","userId":"new-id"}"#)
        #expect(log.contactIDs == ["c_\(older)"])
        #expect(log.state.contacts["c_\(older)"]?.updatedPosition == paid)
        #expect(log.state.dirtyContacts == ["c_\(older)"])
        #expect(log.state.merges.isEmpty)
    }

    @Test func anEmailSharedByTwoUserIDsMergesThemIntoTheOlderWithTheEmailAsReason() {
        var log = PeopleLog()
        let first = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"pat@example.com"}}"#)
        let second = log.append(.identify, #"{"type":"identify","userId":"u2"}"#)
        #expect(log.contactIDs.count == 2)
        let merge = log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"PAT@example.com"}}"#)

        #expect(log.contactIDs == ["c_\(first)"])
        #expect(log.merges == ["c_\(second) → c_\(first) email @\(merge)"])
        #expect(log.identities(of: "c_\(first)") == ["email:pat@example.com", "user_id:u1", "user_id:u2"])
        // The userId of the latest call is the contact's.
        #expect(log.state.contacts["c_\(first)"]?.userID == "u2")
    }

    @Test func conflictingIdentitiesMergeIntoTheContactCreatedFirstWhicheverKeyNamesIt() {
        var log = PeopleLog()
        let first = log.append(.identify, #"{"type":"identify","userId":"u1"}"#)
        let second = log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"x@example.com"}}"#)
        // The userId names the older contact, the email the newer one.
        let merge = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"x@example.com"}}"#)

        #expect(log.contactIDs == ["c_\(first)"])
        #expect(log.merges == ["c_\(second) → c_\(first) email @\(merge)"])
        let contact = log.state.contacts["c_\(first)"]
        #expect(contact?.userID == "u1")
        #expect(contact?.email == "x@example.com")
        #expect(log.identities(of: "c_\(first)") == ["email:x@example.com", "user_id:u1", "user_id:u2"])
    }

    @Test func aMergeKeepsTheMoreRecentlyUpdatedSideOfEachConflict() {
        var log = PeopleLog()
        let survivor = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"plan":"free","city":"Oslo"}}"#)
        log.append(.track, #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk"}}"#)
        log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"plan":"pro"}}"#)
        let exited = log.append(
            .track, #"{"type":"track","userId":"u2","event":"Audience Exited","properties":{"audience_key":"churn_risk"}}"#)
        log.append(.alias, #"{"type":"alias","previousId":"u2","userId":"u1"}"#)

        let contact = log.state.contacts["c_\(survivor)"]
        #expect(log.contactIDs == ["c_\(survivor)"])
        #expect(contact?.traits == ["plan": .string("pro"), "city": .string("Oslo")])
        let audience = contact?.audiences["churn_risk"]
        #expect(audience?.isMember == false)
        #expect(audience?.exitedAt == log.time(of: exited))
    }

    @Test func aSharedDeviceMovesTheAnonymousIDWithoutMergingTwoPeople() {
        var log = PeopleLog()
        let alice = log.append(.identify, #"{"type":"identify","userId":"alice","anonymousId":"tablet"}"#)
        let bob = log.append(.identify, #"{"type":"identify","userId":"bob","anonymousId":"tablet"}"#)

        #expect(log.contactIDs == ["c_\(alice)", "c_\(bob)"])
        #expect(log.state.merges.isEmpty)
        #expect(log.contact(.anonymousID("tablet"))?.userID == "bob")
        #expect(log.identities(of: "c_\(alice)") == ["user_id:alice"])
        #expect(log.state.dirtyIdentities.contains(.anonymousID("tablet")))
    }

    @Test func anAliasOfAnUnseenIDIsFoundByLaterCallsUnderEitherField() {
        var log = PeopleLog()
        let alias = log.append(.alias, #"{"type":"alias","previousId":"p-7","userId":"u-7"}"#)
        log.append(.track, #"{"type":"track","event":"Paid","userId":"p-7"}"#)
        log.append(.page, #"{"type":"page","name":"Home","anonymousId":"p-7"}"#)

        #expect(log.contactIDs == ["c_\(alias)"])
        #expect(log.state.merges.isEmpty)
        #expect(log.identities(of: "c_\(alias)") == ["anonymous_id:p-7", "user_id:p-7", "user_id:u-7"])
    }

    @Test func anAliasOfAKnownAnonymousIDMergesAndIsFoundByALaterUserID() {
        var log = PeopleLog()
        let visit = log.append(.page, #"{"type":"page","name":"Pricing","anonymousId":"anon-3"}"#)
        let identified = log.append(.identify, #"{"type":"identify","userId":"u-3","traits":{"plan":"pro"}}"#)
        let alias = log.append(.alias, #"{"type":"alias","previousId":"anon-3","userId":"u-3"}"#)
        // An older client still sends the previous id in the userId field.
        log.append(.identify, #"{"type":"identify","userId":"anon-3","traits":{"city":"Lyon"}}"#)

        #expect(log.contactIDs == ["c_\(visit)"])
        #expect(log.merges == ["c_\(identified) → c_\(visit) alias @\(alias)"])
        #expect(log.state.contacts["c_\(visit)"]?.traits == ["plan": .string("pro"), "city": .string("Lyon")])
        #expect(log.identities(of: "c_\(visit)") == ["anonymous_id:anon-3", "user_id:anon-3", "user_id:u-3"])
    }

    @Test func anAliasWithoutAUserIDChangesNothing() {
        var log = PeopleLog()
        log.append(.alias, #"{"type":"alias","previousId":"p-1","anonymousId":"a-1"}"#)
        #expect(log.contactIDs.isEmpty)
        #expect(log.state.identities.isEmpty)
        #expect(!log.state.hasChanges)
    }

    @Test func aHubSpotMergeWebhookMergesTheContactsOfBothHubSpotIDs() {
        var log = PeopleLog()
        let first = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(first)","hubspotId":"501"}"#, source: .hubsignal)
        let second = log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"b@example.com"}}"#)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(second)","hubspotId":"502"}"#, source: .hubsignal)
        #expect(log.contactIDs.count == 2)
        let merge = log.append(
            .hubSpotContactMerge,
            #"{"eventId":7,"subscriptionType":"contact.merge","objectId":501,"primaryObjectId":501,"mergedObjectIds":[502]}"#,
            source: .hubspot)

        #expect(log.contactIDs == ["c_\(first)"])
        #expect(log.merges == ["c_\(second) → c_\(first) hubspot_merge @\(merge)"])
        #expect(log.contact(.hubSpotID("502"))?.id == "c_\(first)")
        #expect(log.state.contacts["c_\(first)"]?.hubSpotContactID == "501")
    }

    @Test func aHubSpotWebhookForAnUnknownHubSpotIDCreatesAContact() {
        var log = PeopleLog()
        let change = log.append(
            .hubSpotContactPropertyChange,
            #"{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":777,"propertyName":"email","propertyValue":"New@Example.com"}"#,
            source: .hubspot)
        #expect(log.contactIDs == ["c_\(change)"])
        let contact = log.state.contacts["c_\(change)"]
        #expect(contact?.hubSpotContactID == "777")
        #expect(contact?.email == "new@example.com")
        #expect(contact?.hubSpotValues == ["email": .string("New@Example.com")])
        #expect(log.identities(of: "c_\(change)") == ["email:new@example.com", "hubspot_id:777"])
    }

    @Test func hubSignalsOwnValueComingBackFromHubSpotIsNotAValueHubSpotChose() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com","firstName":"Ada"}}"#)
        log.append(
            .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"firstname":"Ada"}}"#,
            source: .hubsignal)
        log.append(
            .hubSpotContactPropertyChange,
            #"{"eventId":1,"subscriptionType":"contact.propertyChange","objectId":501,"propertyName":"firstname","propertyValue":"Ada"}"#,
            source: .hubspot)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotValues == [:])

        log.append(
            .hubSpotContactPropertyChange,
            #"{"eventId":2,"subscriptionType":"contact.propertyChange","objectId":501,"propertyName":"firstname","propertyValue":"Adeline"}"#,
            source: .hubspot)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotValues == ["firstname": .string("Adeline")])
        #expect(log.contactIDs == ["c_\(contact)"])
    }

    @Test func aHubSpotDeletionForgetsTheHubSpotContactID() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501"}"#, source: .hubsignal)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotContactID == "501")
        log.append(.hubSpotContactDeletion, #"{"eventId":3,"subscriptionType":"contact.deletion","objectId":501}"#, source: .hubspot)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotContactID == nil)
        #expect(log.contactIDs == ["c_\(contact)"])
    }

    @Test func overlongAndMalformedEmailsAreTraitsNotIdentities() {
        var log = PeopleLog()
        // RFC 5321 allows 254 bytes: longer is not an address (and no index could hold an arbitrarily long value).
        let longest = String(repeating: "a", count: 242) + "@example.com"
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"\#(longest)"}}"#)
        #expect(log.identities(of: "c_\(contact)") == ["email:\(longest)", "user_id:u1"])
        let tooLong = "a" + longest
        let other = log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"\#(tooLong)"}}"#)
        log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"plan":"pro","email":"not an email"}}"#)
        log.append(.identify, #"{"type":"identify","userId":"u2","traits":{"email":"@example.com"}}"#)
        #expect(log.state.contacts["c_\(other)"]?.email == nil)
        #expect(log.state.contacts["c_\(other)"]?.traits == ["email": .string("@example.com"), "plan": .string("pro")])
        #expect(log.identities(of: "c_\(other)") == ["user_id:u2"])

        // A website that long gives no domain either: the company is known by its group id only.
        let host = String(repeating: "a", count: 300)
        let group = log.append(
            .group, #"{"type":"group","userId":"u2","groupId":"g-long","traits":{"website":"https://\#(host).example.com"}}"#)
        #expect(log.state.companies["co_\(group)"]?.domain == nil)
        #expect(log.companyIdentities(of: "co_\(group)") == ["group_id:g-long"])
    }

    // MARK: - Audiences

    @Test func audiencesEnterAndExitInEngageAndAEPStyles() {
        var log = PeopleLog()
        let engage = log.append(
            .identify,
            #"{"type":"identify","userId":"u1","traits":{"big_spenders":true},"context":{"personas":{"computation_class":"audience","computation_key":"big_spenders"}}}"#)
        let entered = log.append(
            .track,
            #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk","churn_risk":true},"context":{"personas":{"computation_class":"audience","computation_key":"churn_risk"}}}"#)
        let realized = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"summer_sale":"realized"}}"#)
        #expect(log.audiences(of: "c_\(engage)") == [
            "big_spenders member engage - entered @\(engage)",
            "churn_risk member engage - entered @\(entered)",
            "summer_sale member aep realized entered @\(realized)",
        ])

        let exited = log.append(
            .track,
            #"{"type":"track","userId":"u1","event":"Audience Exited","properties":{"audience_key":"churn_risk","churn_risk":false},"context":{"personas":{"computation_class":"audience","computation_key":"churn_risk"}}}"#)
        let aepExited = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"summer_sale":"exited"}}"#)
        #expect(log.audiences(of: "c_\(engage)") == [
            "big_spenders member engage - entered @\(engage)",
            "churn_risk out engage - entered @\(entered) exited @\(exited)",
            "summer_sale out aep exited entered @\(realized) exited @\(aepExited)",
        ])
    }

    @Test func anExitFromAnAudienceNeverEnteredIsRecordedWithItsTime() {
        var log = PeopleLog()
        let exited = log.append(
            .track, #"{"type":"track","userId":"u1","event":"Audience Exited","properties":{"audience_key":"churn_risk"}}"#)
        #expect(log.audiences(of: "c_\(exited)") == ["churn_risk out engage - exited @\(exited)"])
        // Entering again keeps the time of the last exit.
        let entered = log.append(
            .track, #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk"}}"#)
        #expect(log.audiences(of: "c_\(exited)") == ["churn_risk member engage - entered @\(entered) exited @\(exited)"])
    }

    @Test func audiencesBecomeHubSpotPropertiesOfTheContact() {
        var log = PeopleLog()
        let contact = log.append(
            .track, #"{"type":"track","userId":"u1","event":"Audience Entered","properties":{"audience_key":"churn_risk"}}"#)
        let record = log.state.contacts["c_\(contact)"]!
        let mapping = Mapping.defaults
        let property = mapping.audiences.hubSpotProperty(forAudience: "churn_risk")
        let value = mapping.audiences.hubSpotValue(for: AudienceChange(audience: "churn_risk", isMember: true, status: nil))
        #expect(PeopleTables.hubSpotProperties(of: record, mapping: mapping)[property] == .string(value))
    }

    // MARK: - Companies

    @Test func aGroupCallCreatesACompanyWithItsDomainAndLinksTheContact() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"u1@acme.com"}}"#)
        let group = log.append(
            .group,
            #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme","website":"https://www.acme.com/about","industry":"Tools"}}"#)
        let again = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"employees":40}}"#)

        #expect(log.companyIDs == ["co_\(group)"])
        let company = log.state.companies["co_\(group)"]
        #expect(company?.groupID == "g-1")
        #expect(company?.domain == "acme.com")
        #expect(company?.name == "Acme")
        #expect(company?.traits["employees"] == .int(40))
        #expect(company?.traits["industry"] == .string("Tools"))
        #expect(company?.updatedPosition == again)
        #expect(log.companyIdentities(of: "co_\(group)") == ["domain:acme.com", "group_id:g-1"])
        #expect(log.links(of: "c_\(contact)") == ["co_\(group) @\(group)…@\(again)"])

        let synced = log.append(.hubSpotCompanySynced, #"{"groupId":"g-1","hubspotId":"9001","properties":{"name":"Acme"}}"#, source: .hubsignal)
        #expect(log.state.companies["co_\(group)"]?.hubSpotCompanyID == "9001")
        #expect(log.state.companies["co_\(group)"]?.hubSpotAcknowledged == ["name": .string("Acme")])
        #expect(log.state.companies["co_\(group)"]?.updatedPosition == synced)
        #expect(log.companyIdentities(of: "co_\(group)") == ["domain:acme.com", "group_id:g-1", "hubspot_id:9001"])
    }

    @Test func withoutAssociationTheContactIsNotLinkedToItsCompany() {
        var mapping = Mapping.defaults
        mapping.companies.associateContact = false
        var log = PeopleLog(mapping: mapping)
        let contact = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme"}}"#)
        #expect(log.companyIDs == ["co_\(contact)"])
        #expect(log.links(of: "c_\(contact)") == [])
    }

    @Test func aDomainTiesGroupIDsToOneCompanyAndMergesCompaniesFoundToShareIt() {
        var log = PeopleLog()
        let first = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme","website":"acme.com"}}"#)
        // A new group id with a known domain is the same company.
        let second = log.append(.group, #"{"type":"group","userId":"u2","groupId":"g-2","traits":{"website":"https://www.acme.com"}}"#)
        // A third company, later found to share the domain: merged into the older one, links and all.
        let third = log.append(.group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"name":"Acme EU","website":"acme.eu"}}"#)
        #expect(log.companyIDs == ["co_\(first)", "co_\(third)"])
        let merge = log.append(.group, #"{"type":"group","userId":"u3","groupId":"g-3","traits":{"website":"acme.com"}}"#)

        #expect(log.companyIDs == ["co_\(first)"])
        #expect(log.companyMerges == ["co_\(third) → co_\(first) domain @\(merge)"])
        #expect(log.state.companyRedirects == ["co_\(third)": "co_\(first)"])
        #expect(log.companyIdentities(of: "co_\(first)") == [
            "domain:acme.com", "domain:acme.eu", "group_id:g-1", "group_id:g-2", "group_id:g-3",
        ])
        #expect(log.links(of: "c_\(first)") == ["co_\(first) @\(first)…@\(first)"])
        #expect(log.links(of: "c_\(second)") == ["co_\(first) @\(second)…@\(second)"])
        // The link to the merged company and the new one are one link, with the widest dates.
        #expect(log.links(of: "c_\(third)") == ["co_\(first) @\(third)…@\(merge)"])
        // The newer company's traits win a conflict; the latest call's win over both.
        let company = log.state.companies["co_\(first)"]
        #expect(company?.traits["name"] == .string("Acme EU"))
        #expect(company?.traits["website"] == .string("acme.com"))
        #expect(company?.groupID == "g-1")
    }

    @Test func anAssociationResultMarksTheLinkUntilItsCompanyIsMergedAway() {
        var log = PeopleLog()
        let older = log.append(.group, #"{"type":"group","userId":"u0","groupId":"g-0","traits":{"website":"acme.com"}}"#)
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1"}"#)
        let company = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme"}}"#)
        log.append(.hubSpotAssociationSynced, #"{"contactId":"c_\#(contact)","groupId":"g-1"}"#, source: .hubsignal)
        #expect(log.state.contacts["c_\(contact)"]?.companies["co_\(company)"]?.hubSpotAssociated == true)
        #expect(log.links(of: "c_\(contact)") == ["co_\(company) @\(company)…@\(company) associated"])

        // An association with a company merged away is not one with the survivor: HubSpot needs a new one.
        let merge = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"website":"acme.com"}}"#)
        #expect(log.companyIDs == ["co_\(older)"])
        #expect(log.links(of: "c_\(contact)") == ["co_\(older) @\(company)…@\(merge)"])
        log.append(.hubSpotAssociationSynced, #"{"contactId":"c_\#(contact)","groupId":"g-1"}"#, source: .hubsignal)
        #expect(log.links(of: "c_\(contact)") == ["co_\(older) @\(company)…@\(merge) associated"])
    }

    @Test func aCompanyFailureLastsUntilTheCompanyChanges() {
        var log = PeopleLog()
        let company = log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme"}}"#)
        log.append(.hubSpotDeliveryFailed, #"{"groupId":"g-1","reason":"property 'x' does not exist"}"#, source: .hubsignal)
        #expect(log.state.companies["co_\(company)"]?.hubSpotFailure == "property 'x' does not exist")
        log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1"}"#)
        #expect(log.state.companies["co_\(company)"]?.hubSpotFailure == "property 'x' does not exist")
        log.append(.group, #"{"type":"group","userId":"u1","groupId":"g-1","traits":{"name":"Acme Inc"}}"#)
        #expect(log.state.companies["co_\(company)"]?.hubSpotFailure == nil)
        #expect(log.state.companies["co_\(company)"]?.name == "Acme Inc")
    }

    @Test func resultsForUnknownCompaniesAndContactsChangeNothing() {
        var log = PeopleLog()
        log.append(.hubSpotCompanySynced, #"{"groupId":"g-9","hubspotId":"9009"}"#, source: .hubsignal)
        log.append(.hubSpotDeliveryFailed, #"{"groupId":"g-9","reason":"no"}"#, source: .hubsignal)
        log.append(.hubSpotAssociationSynced, #"{"contactId":"c_1","groupId":"g-9"}"#, source: .hubsignal)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_1","hubspotId":"501"}"#, source: .hubsignal)
        log.append(.hubSpotDeliveryFailed, #"{"contactId":"c_1","reason":"no"}"#, source: .hubsignal)
        log.append(.oneSignalUserSynced, #"{"contactId":"c_1","tags":{"plan":"pro"}}"#, source: .hubsignal)
        log.append(.replayRequested, #"{"destination":"hubspot","contactIds":["c_1"],"reason":"test"}"#, source: .hubsignal)
        #expect(log.contactIDs.isEmpty)
        #expect(log.companyIDs.isEmpty)
        #expect(log.state.identities.isEmpty)
        #expect(!log.state.hasChanges)
    }

    // MARK: - Delivery results

    @Test func aContactSyncedResultAttachesTheHubSpotIDToTheSurvivorOfAMerge() {
        var log = PeopleLog()
        let older = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        let newer = log.append(.identify, #"{"type":"identify","userId":"u2"}"#)
        log.append(.hubSpotDeliveryFailed, #"{"contactId":"c_\#(older)","reason":"rate limited"}"#, source: .hubsignal)
        log.append(.alias, #"{"type":"alias","previousId":"u2","userId":"u1"}"#)
        // The push was for the merged contact: its result lands on the survivor.
        log.append(
            .hubSpotContactSynced, #"{"contactId":"c_\#(newer)","hubspotId":"501","properties":{"email":"a@example.com"}}"#,
            source: .hubsignal)

        let contact = log.state.contacts["c_\(older)"]
        #expect(contact?.hubSpotContactID == "501")
        #expect(contact?.hubSpotAcknowledged == ["email": .string("a@example.com")])
        #expect(contact?.hubSpotFailure == nil)
        #expect(log.contact(.hubSpotID("501"))?.id == "c_\(older)")
    }

    @Test func failuresLastUntilAnAcknowledgementOrNewTraits() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.hubSpotDeliveryFailed, #"{"contactId":"c_\#(contact)","reason":"invalid email"}"#, source: .hubsignal)
        log.append(.oneSignalDeliveryFailed, #"{"contactId":"c_\#(contact)","reason":"tag limit","app":"eu"}"#, source: .hubsignal)
        log.append(.oneSignalDeliveryFailed, #"{"contactId":"c_\#(contact)","reason":"unauthorized"}"#, source: .hubsignal)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotFailure == "invalid email")
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalFailures == ["eu": "tag limit", "default": "unauthorized"])

        // OneSignal acknowledges the app "eu": its failure is over, the user is known as a device.
        let synced = log.append(
            .oneSignalUserSynced, #"{"contactId":"c_\#(contact)","app":"eu","onesignalId":"os-1","tags":{"plan":"pro"}}"#,
            source: .hubsignal)
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalFailures == ["default": "unauthorized"])
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalAcknowledged == ["eu": ["plan": .string("pro")]])
        let device = log.state.devices["eu\u{0}user:os-1"]
        #expect(device?.contactID == "c_\(contact)")
        #expect(device?.externalID == "u1")
        #expect(device?.tags == ["plan": .string("pro")])
        #expect(device?.lastEventAt == log.time(of: synced))

        // A call without traits changes nothing delivered; new traits are a new delivery.
        log.append(.track, #"{"type":"track","userId":"u1","event":"Viewed"}"#)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotFailure == "invalid email")
        log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"plan":"pro"}}"#)
        #expect(log.state.contacts["c_\(contact)"]?.hubSpotFailure == nil)
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalFailures == [:])
    }

    @Test func aReplayForgetsWhatTheDestinationAcknowledged() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(
            .hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501","properties":{"email":"a@example.com"}}"#,
            source: .hubsignal)
        log.append(.oneSignalUserSynced, #"{"contactId":"c_\#(contact)","app":"eu","tags":{"a":"1"}}"#, source: .hubsignal)
        log.append(.oneSignalUserSynced, #"{"contactId":"c_\#(contact)","app":"us","tags":{"b":"2"}}"#, source: .hubsignal)
        log.state.clearChanges()

        let hubSpot = log.append(.replayRequested, #"{"destination":"hubspot","contactIds":["c_\#(contact)"],"reason":"r"}"#, source: .hubsignal)
        var record = log.state.contacts["c_\(contact)"]
        #expect(record?.hubSpotAcknowledged == nil)
        #expect(record?.hubSpotContactID == "501")
        #expect(record?.oneSignalAcknowledged.keys.sorted() == ["eu", "us"])
        #expect(record?.updatedPosition == hubSpot)
        #expect(log.state.dirtyContacts == ["c_\(contact)"])

        log.append(
            .replayRequested, #"{"destination":"onesignal","app":"eu","contactIds":["c_\#(contact)"],"reason":"r"}"#, source: .hubsignal)
        record = log.state.contacts["c_\(contact)"]
        #expect(record?.oneSignalAcknowledged.keys.sorted() == ["us"])

        log.append(.replayRequested, #"{"destination":"onesignal","contactIds":["c_\#(contact)"],"reason":"r"}"#, source: .hubsignal)
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalAcknowledged == [:])
    }

    // MARK: - HubSpot workflows and OneSignal messages

    /// An edit-tags action's tags go to the user and app its inputs name (OneSignalSync+TagEdits), never into the
    /// contact's tags for every app (EditTagsActionTests).
    @Test func workflowTagEditsAreNotTheContactsTags() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501"}"#, source: .hubsignal)
        let edit = log.append(
            .editTags, #"{"callbackId":"cb-1","object":{"objectId":501,"objectType":"CONTACT"},"inputFields":{"tags":{"plan":"gold","vip":null}}}"#,
            source: .hubspot)
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalEventTags == [:])
        #expect(log.state.contacts["c_\(contact)"]?.lastSeenAt == log.time(of: edit))
    }

    @Test func aNotificationRequestFromAWorkflowIsActivityOfTheContact() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"a@example.com"}}"#)
        log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(contact)","hubspotId":"501"}"#, source: .hubsignal)
        log.state.clearChanges()
        let request = log.append(
            .sendNotification, #"{"callbackId":"cb-1","object":{"objectId":501,"objectType":"CONTACT"},"inputFields":{"message":"Hi","app":"eu"}}"#,
            source: .hubspot)
        #expect(log.activities == ["@\(request) c_\(contact) eu requested push hubspot.action.send_notification -"])
        #expect(log.state.contacts["c_\(contact)"]?.lastSeenAt == log.time(of: request))
    }

    @Test func oneSignalMessageEventsBecomeActivityDevicesAndTheOneSignalID() {
        var mapping = Mapping.defaults
        mapping.timeline.properties = true
        var log = PeopleLog(mapping: mapping)
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1"}"#)
        let clicked = log.append(
            EventType.oneSignal("message.push.clicked"),
            #"{"event_id":"ev-1","kind":"message.push.clicked","external_id":"u1","onesignal_id":"os-9","subscription_id":"sub-1","message_id":"n-1","app_id":"app-a"}"#,
            source: .onesignal)
        #expect(log.contactIDs == ["c_\(contact)"])
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalID == "os-9")
        #expect(log.contact(.oneSignalID("os-9"))?.id == "c_\(contact)")
        #expect(log.activities == ["@\(clicked) c_\(contact) app-a clicked push message.push.clicked n-1"])
        let device = log.state.devices["app-a\u{0}sub-1"]
        #expect(device?.contactID == "c_\(contact)")
        #expect(device?.channel == "push")
        let clickedAt = JSONValue.string(ISO8601Timestamp.format(log.time(of: clicked)))
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalActivity["onesignal_last_push_clicked_at"] == clickedAt)

        // An event that arrives late does not move a last-activity time back.
        log.append(
            EventType.oneSignal("message.push.clicked"),
            #"{"event_id":"ev-0","kind":"message.push.clicked","external_id":"u1","app_id":"app-a"}"#, source: .onesignal,
            occurredAt: log.time(of: contact))
        #expect(log.state.contacts["c_\(contact)"]?.oneSignalActivity["onesignal_last_push_clicked_at"] == clickedAt)

        // Without any identity the event is activity of nobody.
        let anonymous = log.append(
            EventType.oneSignal("message.email.sent"), #"{"event_id":"ev-2","kind":"message.email.sent","app_id":"app-a"}"#,
            source: .onesignal)
        #expect(log.activities.last == "@\(anonymous) - app-a sent email message.email.sent -")
        #expect(log.contactIDs == ["c_\(contact)"])
    }

    // MARK: - Erasure

    @Test func anErasureRemovesTheContactAndEverythingPointingAtIt() {
        var log = PeopleLog()
        let erased = log.append(.identify, #"{"type":"identify","userId":"u1","anonymousId":"a-1","traits":{"email":"a@example.com"}}"#)
        let kept = log.append(.identify, #"{"type":"identify","userId":"u2"}"#)
        let merged = log.append(.identify, #"{"type":"identify","userId":"u3"}"#)
        log.append(.alias, #"{"type":"alias","previousId":"u3","userId":"u1"}"#)
        log.append(
            EventType.oneSignal("message.push.sent"),
            #"{"event_id":"ev-1","kind":"message.push.sent","external_id":"u1","subscription_id":"sub-1","app_id":"app-a"}"#,
            source: .onesignal)
        #expect(!log.state.devices.isEmpty && !log.state.activities.isEmpty)

        // Named by the id it was merged away from: the survivor is erased with it.
        log.append(.erasure, #"{"erasureId":"e-1","contactIds":["c_\#(merged)"],"events":3}"#, source: .hubsignal)
        #expect(log.contactIDs == ["c_\(kept)"])
        #expect(log.state.erasedContacts == ["c_\(erased)", "c_\(merged)"])
        #expect(log.state.identities.keys.map(\.value).sorted() == ["u2"])
        #expect(log.state.absentIdentities.isSuperset(of: [.userID("u1"), .userID("u3"), .anonymousID("a-1"), .email("a@example.com")]))
        #expect(log.state.redirects.isEmpty)
        #expect(log.state.merges.isEmpty)
        #expect(log.state.devices.isEmpty)
        #expect(log.state.activities.isEmpty)
        #expect(!log.state.dirtyContacts.contains("c_\(erased)"))

        // The same person coming back is a new contact.
        let returning = log.append(.identify, #"{"type":"identify","userId":"u1"}"#)
        #expect(log.contactIDs == ["c_\(kept)", "c_\(returning)"])
    }

    @Test func anErasureAloneIsAChangeToWrite() {
        var log = PeopleLog()
        let contact = log.append(.identify, #"{"type":"identify","userId":"u1"}"#)
        log.state.clearChanges()
        #expect(!log.state.hasChanges)
        log.append(.erasure, #"{"erasureId":"e-1","contactIds":["c_\#(contact)"],"events":1}"#, source: .hubsignal)
        #expect(log.state.hasChanges)
        #expect(log.state.dirtyContacts.isEmpty && log.state.dirtyIdentities.isEmpty)
        #expect(log.state.erasedContacts == ["c_\(contact)"])
    }

    // MARK: - What a batch needs loaded

    @Test func aBatchNeedsTheIdentitiesContactsAndCompaniesItsEventsName() {
        var log = PeopleLog()
        var needs = PeopleNeeds()
        needs.add(log.input(.alias, #"{"type":"alias","previousId":"p-1","userId":"u-1"}"#), mapping: .defaults)
        needs.add(
            log.input(.group, #"{"type":"group","userId":"u-2","groupId":"g-1","traits":{"website":"https://acme.com"}}"#),
            mapping: .defaults)
        needs.add(log.input(.hubSpotContactSynced, #"{"contactId":"c_9","hubspotId":"501"}"#), mapping: .defaults)
        needs.add(log.input(.hubSpotCompanySynced, #"{"groupId":"g-2","hubspotId":"9002"}"#), mapping: .defaults)
        needs.add(log.input(.erasure, #"{"erasureId":"e-2","contactIds":["c_7"],"events":1}"#), mapping: .defaults)
        #expect(needs.identities == [.userID("p-1"), .anonymousID("p-1"), .userID("u-1"), .userID("u-2"), .hubSpotID("501")])
        #expect(needs.contactIDs == ["c_9", "c_7"])
        #expect(needs.companyKeys == [.groupID("g-1"), .domain("acme.com"), .groupID("g-2"), IdentityKey(kind: "hubspot_id", value: "9002")])
    }
}

/// A log applied to a `PeopleState` in memory, as a rebuild into empty tables applies it: every identity the state
/// lacks is known to exist nowhere.
struct PeopleLog {
    var state = PeopleState()
    let mapping: Mapping
    private(set) var position: Int64 = 0
    private var times: [Int64: Date] = [:]
    private let start = Date(timeIntervalSince1970: 1_790_000_000)

    init(mapping: Mapping = .defaults) {
        self.mapping = mapping
        state.isComplete = true
        state.tablesAreEmpty = true
    }

    /// Applies the next event (a minute after the previous one unless `occurredAt` says) and returns its position.
    @discardableResult
    mutating func append(_ type: EventType, _ payload: String, source: EventSource = .segment, occurredAt: Date? = nil) -> Int64 {
        let event = next(type, payload, source: source, occurredAt: occurredAt)
        state.apply(PeopleInput(event), event: event, mapping: mapping)
        return event.position
    }

    /// What the next event would mean to the projection, without applying it.
    mutating func input(_ type: EventType, _ payload: String) -> PeopleInput {
        PeopleInput(next(type, payload, source: .segment, occurredAt: nil))
    }

    private mutating func next(_ type: EventType, _ payload: String, source: EventSource, occurredAt: Date?) -> RecordedEvent {
        position += 1
        let time = occurredAt ?? start.addingTimeInterval(60 * Double(position))
        times[position] = time
        return RecordedEvent(
            position: position, transactionID: 1_000 + UInt64(position), stream: "test", type: type, source: source,
            idempotencyKey: "event-\(position)", occurredAt: time, recordedAt: time, payload: PQJSONB(payload),
            metadata: PQJSONB("{}"))
    }

    /// When the event at `position` occurred.
    func time(of position: Int64) -> Date { times[position]! }

    var contactIDs: [String] { state.contacts.keys.sorted(by: Self.byPosition) }
    var companyIDs: [String] { state.companies.keys.sorted(by: Self.byPosition) }

    /// The contact `key` points at now.
    func contact(_ key: IdentityKey) -> ContactRecord? {
        state.identities[key].flatMap { state.contacts[state.resolve($0.contactID)] }
    }

    /// `kind:value` of the identities that point at `contactID` now, sorted.
    func identities(of contactID: String) -> [String] {
        state.identities.filter { state.resolve($0.value.contactID) == contactID }.map { "\($0.key.kind):\($0.key.value)" }.sorted()
    }

    func companyIdentities(of companyID: String) -> [String] {
        state.companyIdentities.filter { state.resolveCompany($0.value.companyID) == companyID }
            .map { "\($0.key.kind):\($0.key.value)" }.sorted()
    }

    /// `merged → survivor reason @position`, in merge order.
    var merges: [String] { state.merges.map { "\($0.from) → \($0.into) \($0.reason) @\($0.position)" } }
    var companyMerges: [String] { state.companyMerges.map { "\($0.from) → \($0.into) \($0.reason) @\($0.position)" } }

    /// `audience member|out style status entered @p exited @p` (times as the positions of the events), sorted.
    func audiences(of contactID: String) -> [String] {
        (state.contacts[contactID]?.audiences ?? [:]).sorted { $0.key < $1.key }.map { audience, record in
            var text = "\(audience) \(record.isMember ? "member" : "out") \(record.style) \(record.status ?? "-")"
            if let entered = record.enteredAt { text += " entered @\(positionAt(entered))" }
            if let exited = record.exitedAt { text += " exited @\(positionAt(exited))" }
            return text
        }
    }

    /// The company links `contact_companies` gets for the contact: `company @first…@last [associated]`.
    func links(of contactID: String) -> [String] {
        guard let contact = state.contacts[contactID] else { return [] }
        return ContactCompaniesTable.resolvedLinks(of: contact, in: state).sorted { $0.key < $1.key }.map { company, link in
            "\(company) @\(positionAt(link.firstSeenAt))…@\(positionAt(link.lastSeenAt))" + (link.hubSpotAssociated ? " associated" : "")
        }
    }

    /// `@position contact app activity channel kind notification` of the pending activity rows.
    var activities: [String] {
        state.activities.map {
            "@\($0.position) \($0.contactID.map(state.resolve) ?? "-") \($0.app ?? "-") \($0.activity) \($0.channel ?? "-") \($0.kind) \($0.notificationID ?? "-")"
        }
    }

    private func positionAt(_ date: Date) -> Int64 {
        times.first { $0.value == date }?.key ?? -1
    }

    private static func byPosition(_ lhs: String, _ rhs: String) -> Bool {
        func number(_ id: String) -> Int64 { Int64(id.drop { !$0.isNumber }) ?? 0 }
        return number(lhs) < number(rhs)
    }
}
