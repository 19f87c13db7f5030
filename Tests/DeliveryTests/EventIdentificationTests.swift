import Delivery
import Domain
import Foundation
import HubSpotSandbox
import Mapping
import Testing

/// Behavioral events name their contact as Segment's HubSpot Cloud Mode (Actions) does (issue 22 item 9): by an email
/// in the call (`properties.email`, then `context.traits.email`) for server-side calls without traits, or by the
/// visitor's HubSpot user token (`utk`) a page sends; see docs/switching.md "Behavioral events without traits".
@Suite(.serialized) struct EventIdentificationTests {
    static let mapping = """
        behavioral_events:
          enabled: true
        """

    /// Appends a track call with a raw `context` (and no identify before it).
    static func track(
        _ sync: inout SyncHarness, userID: String? = nil, anonymousID: String? = nil, _ event: String, properties: String,
        context: String = "{}"
    ) async throws {
        var fields = [#""type":"track""#, #""event":"\#(event)""#, #""properties":\#(properties)"#, #""context":\#(context)"#,
            #""messageId":"\#(UUID())""#]
        if let userID { fields.append(#""userId":"\#(userID)""#) }
        if let anonymousID { fields.append(#""anonymousId":"\#(anonymousID)""#) }
        try await sync.projection.append(.track, "{" + fields.joined(separator: ",") + "}")
    }

    @Test func aServerSideTrackWithoutTraitsNamesItsContactByPropertiesEmail() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.settle([worker], mapping: mapping)  // the outbox starts at the end of the log
            // Never identified: HubSignal knows no contact for s1; the call's own email names it.
            try await Self.track(&sync, userID: "s1", "Order Completed", properties: #"{"email":" Buyer@Example.com ","total":5}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let events = sync.sandbox.behavioralEvents()
            #expect(events.count == 1)
            #expect(events.first?.email == "buyer@example.com")
            #expect(events.first?.utk == nil)
            // HubSpot found (here: created) the contact by that email.
            #expect(events.first?.objectID != nil)
            #expect(sync.sandbox.contacts().contains { $0.properties["email"] == "buyer@example.com" })
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0)
        }
    }

    @Test func contextTraitsEmailNamesTheContactAndTheContactHubSignalKnowsWins() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.settle([worker], mapping: mapping)
            try await Self.track(
                &sync, userID: "s2", "Signed Up", properties: #"{"plan":"pro"}"#, context: #"{"traits":{"email":"traits@example.com"}}"#)
            try await Self.track(
                &sync, userID: "s3", "Signed Up", properties: #"{"email":"property@example.com"}"#,
                context: #"{"traits":{"email":"other@example.com"}}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            // s3's context traits made it a contact HubSignal knows by other@example.com: that contact's email is sent.
            // The call's own email (properties.email first) counts when HubSignal knows no contact for the call.
            #expect(Set(sync.sandbox.behavioralEvents().compactMap(\.email)) == ["traits@example.com", "other@example.com"])
        }
    }

    @Test func aBrowserCallNamesTheVisitorByItsHubSpotUserToken() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.settle([worker], mapping: mapping)
            // An anonymous page visitor: no email anywhere, the hubspotutk cookie copied into the call's context.
            try await Self.track(
                &sync, anonymousID: "anon-1", "Viewed Pricing", properties: #"{"plan":"pro"}"#,
                context: #"{"hubspotutk":"5f1c2d3e4b5a69788796a5b4c3d2e1f0"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let events = sync.sandbox.behavioralEvents()
            #expect(events.count == 1)
            #expect(events.first?.utk == "5f1c2d3e4b5a69788796a5b4c3d2e1f0")
            #expect(events.first?.email == nil)
            let body = try #require(sync.sandbox.requests.matching(pathPrefix: "/events/v3/send").last?.body)
            let inputs = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["inputs"] as? [[String: Any]]
            #expect(inputs?.first?["utk"] as? String == "5f1c2d3e4b5a69788796a5b4c3d2e1f0")
            #expect(inputs?.first?["email"] == nil)
        }
    }

    @Test func aContactHubSpotKnowsIsNamedByItsIDAlone() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.identify("k1", #"{"email":"known@example.com"}"#)
            try await sync.settle([worker], mapping: mapping)
            try await Self.track(
                &sync, userID: "k1", "Signed Up", properties: #"{"email":"typed-elsewhere@example.com"}"#,
                context: #"{"hubspotutk":"abc"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let body = try #require(sync.sandbox.requests.matching(pathPrefix: "/events/v3/send").last?.body)
            let input = ((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["inputs"] as? [[String: Any]])?.first
            #expect(input?["objectId"] as? String != nil)
            #expect(input?["email"] == nil)
            #expect(input?["utk"] == nil)
        }
    }

    @Test func anEventNamingNoContactWaitsInsteadOfBeingSent() async throws {
        try await SyncHarness.run { sync in
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, maximumAttempts: 10_000)
            try await sync.settle([worker], mapping: mapping)
            try await Self.track(&sync, anonymousID: "anon-2", "Viewed Pricing", properties: #"{"plan":"pro"}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            // HubSpot refuses an occurrence without email, utk or objectId (HubSpotSandboxTests.EventsTests): never sent.
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/v3/send").isEmpty)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 1)
            let reasons = try await sync.projection.strings("SELECT COALESCE(last_error, '') FROM deliveries WHERE object_kind = 'event'")
            #expect(reasons.first?.contains("utk") == true)
        }
    }

    @Test func theMappingNamesWhereEmailAndUserTokenAreRead() throws {
        let rules = try Mapping.parse(
            """
            behavioral_events:
              enabled: true
              email_from: [traits.email]
              utk_from: properties.hs_utk
            """
        ).behavioralEvents
        #expect(rules.emailFrom == ["traits.email"])
        #expect(rules.utkFrom == ["properties.hs_utk"])
        let message: [String: JSONValue] = [
            "properties": .object(["email": .string("ignored@example.com"), "hs_utk": .string(" t1 ")]),
            "traits": .object(["email": .string("Read@Example.com")]),
        ]
        #expect(rules.identification(of: message).email == "read@example.com")
        #expect(rules.identification(of: message).utk == "t1")
        // The defaults: properties.email, then context.traits.email; a value without @ is no email.
        let defaults = BehavioralEventRules(enabled: true)
        let notAnEmail: [String: JSONValue] = [
            "properties": .object(["email": .string("n/a")]),
            "context": .object(["traits": .object(["email": .string("ctx@example.com")])]),
        ]
        #expect(defaults.identification(of: notAnEmail).email == "ctx@example.com")
        let both: [String: JSONValue] = [
            "properties": .object(["email": .string("prop@example.com")]),
            "context": .object(["traits": .object(["email": .string("ctx@example.com")]), "hubspotutk": .string("u1")]),
        ]
        #expect(defaults.identification(of: both).email == "prop@example.com")
        #expect(defaults.identification(of: both).utk == "u1")
        #expect(throws: MappingError.self) {
            try Mapping.parse(
                """
                behavioral_events:
                  email_from: [userId]
                """)
        }
    }
}
