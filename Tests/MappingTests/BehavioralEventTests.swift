import Domain
import Ingestion
import Mapping
import Testing

@Suite struct BehavioralEventTests {
    @Test func offByDefault() {
        #expect(BehavioralEventRules.defaults.event(named: "Order Completed", properties: [:], portalID: "123") == nil)
    }

    @Test func defaultNamingSendsEveryEvent() throws {
        let rules = BehavioralEventRules(enabled: true)
        let event = try #require(rules.event(
            named: "Order Completed", properties: try object("""
                {"Revenue": 12.5, "order id": "o-1", "coupon": null, "items": [1, 2], "meta": {"a": 1}, "paid": true}
                """), portalID: "12345678"))
        #expect(event.eventName == "pe12345678_order_completed")
        #expect(event.properties == ["revenue": "12.5", "order_id": "o-1", "paid": "true"])
        #expect(event.dropped == ["items", "meta"])

        #expect(rules.event(named: "  Signed-Up!! (v2) ", properties: [:], portalID: "1")?.eventName == "pe1_signed_up_v2")
        #expect(rules.event(named: "2FA Enabled", properties: [:], portalID: "1")?.eventName == "pe1_event_2fa_enabled")
    }

    @Test func rulesRenameAndSelect() throws {
        let rules = try parsed(
            """
            behavioral_events:
              enabled: true
              events:
                Order Completed: { name: purchase, properties: { revenue: amount, product.sku: sku } }
                Signed Up:
            """).behavioralEvents
        #expect(rules.sendUnlisted == false)
        let event = try #require(rules.event(
            named: "Order Completed", properties: try object(#"{"revenue": 30, "product": {"sku": "S-1"}, "other": "x"}"#),
            portalID: "9"))
        #expect(event == BehavioralEvent(eventName: "pe9_purchase", properties: ["amount": "30", "sku": "S-1"], dropped: []))
        #expect(rules.event(named: "Signed Up", properties: strings(["Plan": "pro"]), portalID: "9")
            == BehavioralEvent(eventName: "pe9_signed_up", properties: ["plan": "pro"]))
        #expect(rules.event(named: "Page Scrolled", properties: [:], portalID: "9") == nil)

        let sendAll = try parsed("behavioral_events: { enabled: true, send_unlisted: true, events: { A: a } }").behavioralEvents
        #expect(sendAll.event(named: "Page Scrolled", properties: [:], portalID: "9")?.eventName == "pe9_page_scrolled")
    }

    @Test func atMostFiftyProperties() {
        let rules = BehavioralEventRules(enabled: true)
        var properties: [String: JSONValue] = [:]
        for index in 1...60 { properties[String(format: "p%02d", index)] = .int(Int64(index)) }
        let event = rules.event(named: "Big", properties: properties, portalID: "1")!
        #expect(event.properties.count == 50)
        #expect(event.properties["p01"] == "1")
        #expect(event.properties["p50"] == "50")
        #expect(event.properties["p51"] == nil)
        #expect(event.dropped == (51...60).map { String(format: "p%02d", $0) })
    }
}

@Suite struct PageViewTests {
    let page = strings([
        "url": "https://acme.com/pricing?x=1", "path": "/pricing", "title": "Pricing", "referrer": "https://google.com",
        "search": "?x=1", "extra": "ignored",
    ])

    @Test func offByDefault() {
        #expect(PageViewRules.defaults.event(type: "page", name: "Pricing", properties: page, portalID: "1") == nil)
        #expect(PageViewRules.defaults.event(type: "screen", name: "Home", properties: [:], portalID: "1") == nil)
    }

    @Test func perName() throws {
        let rules = try parsed("page_views: { pages: per_name, screens: per_name }").pageViews
        let event = try #require(rules.event(type: "page", name: "Pricing Plans", properties: page, portalID: "42"))
        #expect(event.eventName == "pe42_page_pricing_plans")
        #expect(event.properties == ["name": "Pricing Plans", "url": "https://acme.com/pricing?x=1", "path": "/pricing",
                                     "title": "Pricing", "referrer": "https://google.com", "search": "?x=1"])
        #expect(rules.event(type: "screen", name: "Home", properties: [:], portalID: "42")
            == BehavioralEvent(eventName: "pe42_screen_home", properties: ["name": "Home"]))
        #expect(rules.event(type: "page", name: nil, properties: strings(["path": "/"]), portalID: "42")?.eventName == "pe42_page_unnamed")
        #expect(rules.event(type: "track", name: "Home", properties: [:], portalID: "42") == nil)
    }

    @Test func fixed() throws {
        let rules = try parsed("page_views: { pages: { fixed: page_viewed }, screens: off }").pageViews
        let event = try #require(rules.event(type: "page", name: nil, properties: page.merging(strings(["name": "Pricing"])) { $1 }, portalID: "7"))
        #expect(event.eventName == "pe7_page_viewed")
        #expect(event.properties["name"] == "Pricing")
        #expect(event.properties["url"] == "https://acme.com/pricing?x=1")
        #expect(event.properties["extra"] == nil)
        #expect(rules.event(type: "screen", name: "Home", properties: [:], portalID: "7") == nil)
    }

    @Test func yamlOffAndFalseMeanOff() throws {
        #expect(try parsed("page_views: { pages: off, screens: false }").pageViews == PageViewRules.defaults)
    }
}
