import Domain
import Foundation
import Ingestion
import Testing

/// Only the configured HubSpot portal's requests are accepted (issue 18 §5).
@Suite struct HubSpotPortalTests {
    @Test func theConfiguredPortalIsAcceptedAsANumberOrAStringAndNothingElse() {
        #expect(HubSpotPortal.refusal(sent: .int(27_356_661), configured: "27356661") == nil)
        #expect(HubSpotPortal.refusal(sent: .string("27356661"), configured: "27356661") == nil)
        #expect(HubSpotPortal.refusal(sent: .double(27_356_661), configured: "27356661") == nil)
        for (sent, mention) in [
            (JSONValue.int(666), "portal 666"), (.string("27356661 "), "portal 27356661 "), (.int(2_735_666), "portal 2735666"),
        ] {
            let refusal = HubSpotPortal.refusal(sent: sent, configured: "27356661")
            #expect(refusal?.contains(mention) == true, "\(sent)")
            #expect(refusal?.contains("HUBSPOT_PORTAL_ID") == true && refusal?.contains("27356661)") == false)
        }
        for sent: JSONValue? in [nil, .null, .string(""), .bool(true), .object([:])] {
            let refusal = HubSpotPortal.refusal(sent: sent, configured: "27356661")
            #expect(refusal?.contains("names no HubSpot portal") == true, "\(String(describing: sent))")
        }
        #expect(HubSpotPortal.refusal(sent: .int(27_356_661), configured: nil)?.contains("HUBSPOT_PORTAL_ID is not configured") == true)
    }

    @Test func aDeliveryKeepsTheConfiguredPortalsEventsAndRefusesTheOthersOneByOne() throws {
        let body = try JSONValue.parse(
            Array(
                #"""
                [{"eventId":1,"subscriptionId":5,"portalId":666,"occurredAt":1700000000000,"subscriptionType":"contact.privacyDeletion","objectId":512},
                 {"eventId":2,"subscriptionId":5,"portalId":27356661,"occurredAt":1700000000000,"subscriptionType":"contact.creation","objectId":513},
                 {"subscriptionId":5,"portalId":27356661,"occurredAt":1700000000000,"subscriptionType":"contact.creation","objectId":514},
                 {"eventId":4,"subscriptionId":5,"occurredAt":1700000000000,"subscriptionType":"contact.deletion","objectId":515}]
                """#.utf8))
        var result = try HubSpotWebhookParser.parse(body)
        #expect(result.accepted.count == 3)
        let refusal = result.refuseOtherPortals(than: "27356661")
        #expect(refusal?.contains("portal 666") == true)
        #expect(result.accepted.map(\.index) == [1])
        #expect(result.rejected.map(\.index) == [0, 2, 3])
        #expect(result.rejected[0].messageId == "1" && result.rejected[0].reason.contains("portal 666"))
        #expect(result.rejected[1].reason.contains("eventId"))
        #expect(result.rejected[2].reason.contains("names no HubSpot portal"))

        var ours = try HubSpotWebhookParser.parse(body)
        ours.accepted.removeAll { $0.index != 1 }
        #expect(ours.refuseOtherPortals(than: "27356661") == nil)
        #expect(ours.accepted.count == 1)

        var unconfigured = try HubSpotWebhookParser.parse(body)
        #expect(unconfigured.refuseOtherPortals(than: nil)?.contains("not configured") == true)
        #expect(unconfigured.accepted.isEmpty && unconfigured.rejected.count == 4)
    }
}
