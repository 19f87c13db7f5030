import Ingestion
import Mapping
import Testing

@Suite struct AudienceRulesTests {
    let rules = AudienceRules.defaults

    @Test func engageIdentify() throws {
        let message = try json("""
            {"type": "identify", "userId": "u1", "traits": {"trial_users": true, "email": "a@b.c"},
             "context": {"personas": {"computation_class": "audience", "computation_key": "trial_users",
                                      "computation_id": "aud_1", "space_id": "spa_1"}}}
            """)
        #expect(rules.changes(in: message) == [AudienceChange(audience: "trial_users", isMember: true)])
        let exited = try json("""
            {"type": "identify", "traits": {"trial_users": false},
             "context": {"personas": {"computation_class": "audience", "computation_key": "trial_users"}}}
            """)
        #expect(rules.changes(in: exited) == [AudienceChange(audience: "trial_users", isMember: false)])
        // A computed trait is not an audience.
        let computed = try json("""
            {"type": "identify", "traits": {"ltv": 300},
             "context": {"personas": {"computation_class": "trait", "computation_key": "ltv"}}}
            """)
        #expect(rules.changes(in: computed).isEmpty)
    }

    @Test func engageTrack() throws {
        let entered = try json("""
            {"type": "track", "event": "Audience Entered", "properties": {"audience_key": "big_spenders", "big_spenders": true},
             "context": {"personas": {"computation_class": "audience", "computation_key": "big_spenders"}}}
            """)
        #expect(rules.changes(in: entered) == [AudienceChange(audience: "big_spenders", isMember: true)])
        let exited = try json(#"{"type": "track", "event": "Audience Exited", "properties": {"audience_key": "big_spenders"}}"#)
        #expect(rules.changes(in: exited) == [AudienceChange(audience: "big_spenders", isMember: false)])
        let other = try json(#"{"type": "track", "event": "Order Completed", "properties": {"audience_key": "x"}}"#)
        #expect(rules.changes(in: other).isEmpty)
    }

    @Test func aepStatuses() throws {
        let message = try json("""
            {"type": "identify", "traits": {"vip": "realized", "churned": "exited", "loyal": "existing",
                                            "gold": {"status": "Realized"}, "plan": "pro"}}
            """)
        #expect(rules.changes(in: message) == [
            AudienceChange(audience: "churned", isMember: false, status: "exited"),
            AudienceChange(audience: "gold", isMember: true, status: "realized"),
            AudienceChange(audience: "loyal", isMember: true, status: "existing"),
            AudienceChange(audience: "vip", isMember: true, status: "realized"),
        ])
        let listed = try parsed("audiences: { aep_audiences: [vip] }").audiences
        #expect(listed.changes(in: message) == [AudienceChange(audience: "vip", isMember: true, status: "realized")])
    }

    @Test func stylesCanBeTurnedOff() throws {
        let engageOnly = try parsed("audiences: { styles: engage }").audiences
        #expect(engageOnly.changes(in: try json(#"{"type": "identify", "traits": {"vip": "realized"}}"#)).isEmpty)
        let aepOnly = try parsed("audiences: { styles: [aep] }").audiences
        #expect(aepOnly.changes(in: try json(#"{"type": "track", "event": "Audience Entered", "properties": {"audience_key": "x"}}"#)).isEmpty)
    }

    @Test func propertyAndTagNames() throws {
        #expect(rules.hubSpotProperty(forAudience: "Trial Users") == "trial_users")
        #expect(rules.hubSpotProperty(forAudience: "30_day_active") == "audience_30_day_active")
        #expect(rules.oneSignalTag(forAudience: "Trial Users") == "Trial Users")
        let prefixed = try parsed("audiences: { hubspot_property_prefix: aud_, onesignal_tag_prefix: seg_ }").audiences
        #expect(prefixed.hubSpotProperty(forAudience: "trial_users") == "aud_trial_users")
        #expect(prefixed.hubSpotProperty(forAudience: "30_day_active") == "aud_audience_30_day_active")
        #expect(prefixed.oneSignalTag(forAudience: "trial_users") == "seg_trial_users")
    }

    @Test func values() {
        let engage = AudienceChange(audience: "a", isMember: true)
        let exited = AudienceChange(audience: "a", isMember: false, status: "exited")
        #expect(rules.hubSpotValue(for: engage) == "true")
        #expect(rules.hubSpotValue(for: exited) == "false")
        #expect(rules.oneSignalValue(for: engage) == "true")
        #expect(rules.oneSignalValue(for: exited) == nil)
        let status = AudienceRules(hubSpotType: .status)
        #expect(status.hubSpotValue(for: engage) == "realized")
        #expect(status.hubSpotValue(for: exited) == "exited")
        #expect(status.oneSignalValue(for: AudienceChange(audience: "a", isMember: true, status: "existing")) == "existing")
    }
}
