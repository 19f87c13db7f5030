import Domain
import Testing

@Suite struct IdentityKeysTests {
    func object(_ text: String) throws -> [String: JSONValue] {
        try #require(try JSONValue.parse(Array(text.utf8)).objectValue)
    }

    func names(_ rule: IdentityKeys.Rule, _ type: EventType, _ text: String, identifying: Bool = true) throws -> [String] {
        try rule.names(in: object(text), type: type, identifying: identifying).map { "\($0.name.rawValue)=\($0.value)" }
    }

    @Test func segmentCallsNameUserEmailAnonymousInThatOrder() throws {
        let identify = #"{"anonymousId":"a-1","userId":42,"traits":{"email":" Ada@Example.COM "},"context":{"traits":{"email":"x@y.z"}}}"#
        #expect(try names(IdentityKeys.segment, .identify, identify) == ["user_id=42", "email=ada@example.com", "anonymous_id=a-1"])
        // Outside identify, top-level traits are not the person's (a group's are the company's): context.traits only.
        #expect(try names(IdentityKeys.segment, .track, identify) == ["user_id=42", "email=x@y.z", "anonymous_id=a-1"])
        // identify traits win over context.traits even when they say null (as the merged traits do).
        #expect(try names(IdentityKeys.segment, .identify, #"{"traits":{"email":null},"context":{"traits":{"email":"x@y.z"}}}"#) == [])
        #expect(try names(IdentityKeys.segment, .identify, #"{"traits":{"plan":"pro"},"context":{"traits":{"email":"x@y.z"}}}"#) == ["email=x@y.z"])
        // Blank ids and invalid emails name nobody.
        #expect(try names(IdentityKeys.segment, .identify, #"{"userId":"  ","traits":{"email":"not an email"}}"#) == [])
    }

    @Test func aliasGroupAndMentions() throws {
        let alias = #"{"userId":"u-2","previousId":"a-9"}"#
        #expect(try names(IdentityKeys.segment, .alias, alias) == ["user_id=u-2", "previous_id=a-9"])
        #expect(try names(IdentityKeys.segment, .identify, alias) == ["user_id=u-2"], "previousId counts only in an alias")
        #expect(IdentityKeys.segment.first(.previousID, in: try object(alias), type: .alias) == "a-9")
        #expect(try names(IdentityKeys.segment, .group, #"{"groupId":"g-1","userId":"u"}"#) == ["user_id=u", "group_id=g-1"])
        // An email in track properties is a mention (erasure), not an identity (projection).
        let track = #"{"userId":"u","properties":{"email":"Ada@example.com"}}"#
        #expect(try names(IdentityKeys.segment, .track, track) == ["user_id=u"])
        #expect(try names(IdentityKeys.segment, .track, track, identifying: false) == ["user_id=u", "email=ada@example.com"])
    }

    @Test func hubSpotWebhooksAndActions() throws {
        let merge = #"{"objectId":501,"mergedObjectIds":[502,"503",null]}"#
        #expect(try names(IdentityKeys.hubSpotContactWebhook, .hubSpotContactMerge, merge) == ["hubspot_id=501", "hubspot_id=502", "hubspot_id=503"])
        #expect(try names(IdentityKeys.hubSpotContactWebhook, .hubSpotContactMerge, #"{"primaryObjectId":"7"}"#) == ["hubspot_id=7"])
        let change = #"{"objectId":1,"propertyName":"email","propertyValue":"New@Example.com"}"#
        #expect(try names(IdentityKeys.hubSpotContactWebhook, .hubSpotContactPropertyChange, change) == ["hubspot_id=1", "email=new@example.com"])
        let other = #"{"objectId":1,"propertyName":"firstname","propertyValue":"a@b.c"}"#
        #expect(try names(IdentityKeys.hubSpotContactWebhook, .hubSpotContactPropertyChange, other) == ["hubspot_id=1"])
        #expect(try names(IdentityKeys.hubSpotAction, .sendNotification, #"{"object":{"objectId":"501"}}"#) == ["hubspot_id=501"])
    }

    @Test func oneSignalFlatDottedAndNested() throws {
        let type = EventType.oneSignal("message.push.clicked")
        #expect(try names(IdentityKeys.oneSignal, type, #"{"external_id":"u-1","onesignal_id":"os-1"}"#) == ["external_id=u-1", "onesignal_id=os-1"])
        #expect(try names(IdentityKeys.oneSignal, type, #"{"event.external_id":"u-1","event.onesignal_id":"os-1"}"#) == ["external_id=u-1", "onesignal_id=os-1"])
        #expect(try names(IdentityKeys.oneSignal, type, #"{"event":{"external_id":"u-1","onesignal_id":"os-1"}}"#) == ["external_id=u-1", "onesignal_id=os-1"])
        // The external id is not normalised here: whether it is an email is the mapping's decision.
        #expect(try names(IdentityKeys.oneSignal, type, #"{"external_id":"Ada@Example.com"}"#) == ["external_id=Ada@Example.com"])
    }

    @Test func eachTypeHasAtMostOneRule() {
        let types: [EventType] = EventType.segmentCalls + [
            .hubSpotContactMerge, .hubSpotContactPropertyChange, .sendNotification, .editTags, .oneSignal("message.push.sent"),
        ] + EventType.hubSignalTypes
        for type in types {
            #expect(IdentityKeys.rules.filter { $0.applies(to: type) }.count == 1, "\(type)")
        }
        #expect(IdentityKeys.rule(for: .hubSpotWebhook("company.propertyChange")) == nil)
        #expect(IdentityKeys.rule(for: .hubSpotContactSynced) == IdentityKeys.hubSignal)
    }

    @Test func pathsAsSQL() {
        let path = IdentityKeys.segment.fields[1].paths[1]
        #expect(path.sql(on: "e.payload") == "e.payload->'context'->'traits'->>'email'")
        #expect(IdentityKeys.Path("event.external_id").sql(on: "payload") == "payload->>'event.external_id'")
        // Every key is a constant SQL can quote as it is.
        for rule in IdentityKeys.rules {
            for field in rule.fields {
                for path in field.paths { #expect(path.keys.allSatisfy { !$0.isEmpty && !$0.contains("'") && !$0.contains("\\") }) }
            }
        }
    }

    @Test func emailNormalisation() {
        #expect(IdentityKeys.normalizedEmail(" Ada@Example.COM\n") == "ada@example.com")
        #expect(IdentityKeys.normalizedEmail("ada@example.com") == "ada@example.com")
        #expect(IdentityKeys.normalizedEmail("@example.com") == nil)
        #expect(IdentityKeys.normalizedEmail("ada@") == nil)
        #expect(IdentityKeys.normalizedEmail("a da@example.com") == nil)
        #expect(IdentityKeys.normalizedEmail(String(repeating: "a", count: 243) + "@example.com") == nil)
        #expect(IdentityKeys.normalizedEmail(String(repeating: "a", count: 242) + "@example.com") != nil)
    }
}
