import Mapping
import Testing

/// `onesignal.unmatched_users` and `onesignal.subscriptions`: Segment's OneSignal destination's behaviour, selectable.
@Suite struct OneSignalDefaultsTests {
    @Test func theDefaultsCreateUsersWithoutSubscriptions() throws {
        let rules = try parsed("onesignal: { tag_limit: 10 }").oneSignal
        #expect(rules.unmatchedUsers == .create)
        #expect(rules.traitSubscriptions.isEmpty)
    }

    @Test func segmentsDestinationBehaviourIsSelectable() throws {
        let rules = try parsed("onesignal: { unmatched_users: skip, track_properties: all, subscriptions: [email, sms, email] }").oneSignal
        #expect(rules.unmatchedUsers == .skip)
        #expect(rules.trackProperties == .all)
        #expect(rules.traitSubscriptions == [.email, .sms])
    }

    /// Files that leave the new options out keep their mapping version (it hashes the canonical form).
    @Test func theNewOptionsChangeTheVersionOnlyWhenSet() throws {
        let plain = try parsed("onesignal: { tag_limit: 10 }").version
        #expect(try parsed("onesignal: { tag_limit: 10, unmatched_users: create, subscriptions: [] }").version == plain)
        #expect(try parsed("onesignal: { tag_limit: 10, unmatched_users: skip }").version != plain)
        #expect(try parsed("onesignal: { tag_limit: 10, subscriptions: [sms] }").version != plain)
    }

    @Test func mistakesAreNamed() {
        #expect(parseFailure("onesignal: { unmatched_users: drop }")?.message.contains("one of create, skip") == true)
        #expect(parseFailure("onesignal: { subscriptions: [email, push] }")?.message.contains("unknown value 'push'") == true)
        #expect(parseFailure("onesignal: { subscriptions: email }")?.message.contains("a list of subscription kinds") == true)
    }

    @Test(arguments: [
        ("+44 20 7946 0958", "+442079460958"), ("+1 (555) 010-4477", "+15550104477"), ("+33.1.23.45.67.89", "+33123456789"),
        ("0207 946 0958", nil), ("+0 123 456 789", nil), ("+1 555", nil), ("+1234567890123456", nil), ("+44 20 7946 x958", nil),
        ("", nil),
    ] as [(String, String?)])
    func phonesBecomeE164Tokens(_ phone: String, _ token: String?) {
        #expect(OneSignalRules.TraitSubscription.smsToken(fromPhone: phone) == token)
    }
}
