import Ingestion
import Mapping
import Testing

@Suite struct OneSignalRulesTests {
    @Test func defaultTags() throws {
        let tags = OneSignalRules.defaults.tags(traits: try object("""
            {"firstName": "Ada", "lastName": "L", "plan": "pro", "age": 36, "vip": true, "email": "ada@example.com",
             "phone": "+1 555", "address": {"city": "London"}, "interests": ["math"], "nickname": null, "bio": " "}
            """))
        #expect(tags.tags == ["first_name": "Ada", "last_name": "L", "plan": "pro", "age": "36", "vip": "true", "nickname": nil, "bio": nil])
        #expect(tags.dropped["email"]?.contains("email subscription") == true)
        #expect(tags.dropped["phone"]?.contains("SMS subscription") == true)
        #expect(tags.dropped["address"]?.contains("nested object") == true)
        #expect(tags.dropped["interests"]?.contains("a list") == true)
        #expect(tags.dropped.count == 4)
    }

    @Test func emailAndPhoneInAnyCaseAreNotTags() throws {
        let rules = OneSignalRules(nested: .flatten(separator: "_"))
        let tags = rules.tags(traits: try object(#"{"Email": "a@b.c", "PHONE": "1", "work": {"Phone": "2"}, "emails": "3", "xemail": "4"}"#))
        #expect(tags.tags == ["emails": "3", "xemail": "4"])
        #expect(tags.dropped.keys.sorted() == ["Email", "PHONE", "work.Phone"])
    }

    @Test func flattenNestedValues() throws {
        let rules = OneSignalRules(nested: .flatten(separator: "__"), tagLimit: 100)
        let tags = rules.tags(traits: try object("""
            {"address": {"city": "London", "geo": {"lat": 51.5}, "email": "x@y.z"}, "company": {"name": null}}
            """))
        #expect(tags.tags == ["address__city": "London", "address__geo__lat": "51.5", "company__name": nil])
        #expect(tags.dropped.keys.sorted() == ["address.email"])
    }

    @Test func renames() throws {
        let mapping = try parsed("onesignal: { renames: { plan: plan_name, firstName: given_name } }")
        let tags = mapping.oneSignal.tags(traits: try object(#"{"plan": "pro", "firstName": "Ada", "lastName": "L"}"#))
        #expect(tags.tags == ["plan_name": "pro", "given_name": "Ada", "last_name": "L"])
    }

    @Test func reservedTagNamesAreDropped() throws {
        let tags = OneSignalRules.defaults.tags(traits: try object(#"{"message": "hi", "plan": "pro"}"#))
        #expect(tags.tags == ["plan": "pro"])
        #expect(tags.dropped["message"]?.contains("reserved by OneSignal") == true)
    }

    @Test func tagLimitKeepsTheFirstByNameAndReportsTheRest() throws {
        let rules = OneSignalRules(tagLimit: 2)
        let tags = rules.tags(traits: try object(#"{"d": "4", "b": "2", "a": "1", "c": "3", "gone": null}"#))
        #expect(tags.tags == ["a": "1", "b": "2", "gone": nil])
        #expect(tags.dropped == ["c": "over the tag limit of 2 (tag 'c')", "d": "over the tag limit of 2 (tag 'd')"])
        // The same input always gives the same result, whatever the dictionary order.
        for _ in 0..<5 {
            #expect(rules.tags(traits: try object(#"{"c": "3", "a": "1", "d": "4", "b": "2", "gone": null}"#)) == tags)
        }
    }

    @Test func trackPropertySelection() throws {
        let traits = try object(#"{"plan": "free", "firstName": "Ada"}"#)
        let properties = try object(#"{"plan": "pro", "last_order_id": "o-1", "revenue": 12}"#)
        // Default: no track properties.
        #expect(OneSignalRules.defaults.tags(traits: traits, trackProperties: properties).tags == ["plan": "free", "first_name": "Ada"])

        let only = try parsed("onesignal: { traits: [firstName], track_properties: [plan, last_order_id] }").oneSignal
        let tags = only.tags(traits: traits, trackProperties: properties)
        #expect(tags.tags == ["plan": "pro", "last_order_id": "o-1", "first_name": "Ada"])

        let all = try parsed("onesignal: { traits: none, track_properties: all }").oneSignal
        #expect(all.tags(traits: traits, trackProperties: properties).tags == ["plan": "pro", "last_order_id": "o-1", "revenue": "12"])
    }

    @Test func trackPropertiesWinOverTraits() throws {
        let rules = OneSignalRules(trackProperties: .all)
        let tags = rules.tags(traits: try object(#"{"plan": "free"}"#), trackProperties: try object(#"{"plan": "pro"}"#))
        #expect(tags.tags == ["plan": "pro"])
        #expect(tags.dropped["plan"] == "tag 'plan' already comes from the track property 'plan'")
    }

    @Test func appRoutingAll() {
        #expect(AppRouting.all.apps(traits: [:], writeKeyID: nil, configured: ["ios", "web"]) == ["ios", "web"])
    }

    @Test func appRoutingByTrait() throws {
        let routing = try parsed(
            """
            onesignal:
              apps:
                by_trait:
                  trait: brand
                  apps:
                    acme: [acme-ios, acme-web]
                    globex: globex-ios
                    "*": [shared]
            """).oneSignal.apps
        let configured = ["acme-web", "acme-ios", "globex-ios", "shared"]
        #expect(routing.apps(traits: strings(["brand": "acme"]), writeKeyID: nil, configured: configured) == ["acme-web", "acme-ios"])
        #expect(routing.apps(traits: strings(["brand": "globex"]), writeKeyID: nil, configured: configured) == ["globex-ios"])
        #expect(routing.apps(traits: strings(["brand": "initech"]), writeKeyID: nil, configured: configured) == ["shared"])
        #expect(routing.apps(traits: [:], writeKeyID: nil, configured: configured) == ["shared"])
        // Names that are not configured are ignored.
        #expect(routing.apps(traits: strings(["brand": "acme"]), writeKeyID: nil, configured: ["acme-ios"]) == ["acme-ios"])

        let strict = AppRouting.byTrait(trait: "tier", apps: ["1": ["gold"]])
        #expect(strict.apps(traits: ["tier": .int(1)], writeKeyID: nil, configured: ["gold"]) == ["gold"])
        #expect(strict.apps(traits: ["tier": .int(2)], writeKeyID: nil, configured: ["gold"]) == [])
    }

    @Test func appRoutingByWriteKey() throws {
        let routing = try parsed("onesignal: { apps: { by_write_key: { wk_0123456789ab: [ios], wk_ba9876543210: [web, ios] } } }")
            .oneSignal.apps
        #expect(routing == .byWriteKey(["wk_0123456789ab": ["ios"], "wk_ba9876543210": ["web", "ios"]]))
        #expect(routing.apps(traits: [:], writeKeyID: "wk_0123456789ab", configured: ["web", "ios"]) == ["ios"])
        #expect(routing.apps(traits: [:], writeKeyID: "wk_ba9876543210", configured: ["web", "ios"]) == ["web", "ios"])
        #expect(routing.apps(traits: [:], writeKeyID: "wk_ffffffffffff", configured: ["web", "ios"]) == [])
        #expect(routing.apps(traits: [:], writeKeyID: nil, configured: ["web", "ios"]) == [])
    }
}
