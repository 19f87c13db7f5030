import Ingestion
import Mapping
import Testing

@Suite struct CustomObjectRuleTests {
    func orders(_ conditions: String = "[ { path: properties.currency, equals: USD } ]") throws -> CustomObjectRule {
        try #require(parsed(
            """
            custom_objects:
              - name: orders
                trigger: { type: track, event: Order Completed, conditions: \(conditions) }
                object_type: p_orders
                properties:
                  properties.order_id: order_id
                  properties.total: { property: amount, type: number }
                  properties.placed_at: { property: placed_at, type: datetime }
                  traits.plan: plan
                  event: event_name
                search_fields: [order_id]
                associate: { to: contacts, label: buyer }
            """).customObjects.first)
    }

    let message = """
        {"type": "track", "event": "Order Completed", "userId": "u1",
         "properties": {"order_id": "o-1", "total": "19.90", "currency": "USD", "placed_at": 1572480000000,
                        "tags": ["gift", "rush"], "coupon": null},
         "traits": {"plan": "pro"}}
        """

    @Test func triggerMatching() throws {
        let rule = try orders()
        #expect(rule.matches(try json(message)))
        #expect(!rule.matches(try json(message.replacingOccurrences(of: "\"USD\"", with: "\"EUR\""))))
        #expect(!rule.matches(try json(message.replacingOccurrences(of: "Order Completed", with: "Order Refunded"))))
        #expect(!rule.matches(try json(message.replacingOccurrences(of: "\"track\"", with: "\"identify\""))))
        #expect(!rule.matches(try json(#"{"type": "track", "event": "Order Completed"}"#)))
    }

    @Test func conditionOperators() throws {
        let msg = try json(message)
        #expect(try orders("[ { path: properties.currency, not_equals: EUR } ]").matches(msg))
        #expect(try !orders("[ { path: properties.currency, not_equals: USD } ]").matches(msg))
        #expect(try orders("[ { path: properties.coupon, exists: false } ]").matches(msg))
        #expect(try orders("[ { path: properties.order_id, exists: true } ]").matches(msg))
        #expect(try !orders("[ { path: properties.missing, exists: true } ]").matches(msg))
        #expect(try orders("[ { path: properties.tags, contains: gift } ]").matches(msg))
        #expect(try orders("[ { path: properties.order_id, contains: \"o-\" } ]").matches(msg))
        #expect(try !orders("[ { path: properties.tags, contains: wrap } ]").matches(msg))
        // Numbers compare as numbers, and with their text.
        #expect(try orders("[ { path: properties.total, equals: 19.9 } ]").matches(msg))
        #expect(try orders("[ { path: traits.plan, equals: pro }, { path: properties.currency, equals: USD } ]").matches(msg))
        #expect(try !orders("[ { path: traits.plan, equals: pro }, { path: properties.currency, equals: EUR } ]").matches(msg))
    }

    @Test func numericEquality() {
        let condition = CustomObjectRule.Condition(path: "properties.count", op: .equals, value: .int(3))
        #expect(condition.holds(for: .object(["properties": .object(["count": .double(3.0)])])))
        #expect(condition.holds(for: .object(["properties": .object(["count": .string("3")])])))
        #expect(!condition.holds(for: .object(["properties": .object(["count": .int(4)])])))
    }

    @Test func propertyExtraction() throws {
        let rule = try orders()
        #expect(rule.objectType == "p_orders")
        #expect(rule.association == .init(toObject: "contacts", label: "buyer"))
        #expect(rule.createIfMissing)
        let values = rule.properties(from: try json(message))
        #expect(values.values == [
            "order_id": "o-1", "amount": "19.9", "placed_at": "2019-10-31T00:00:00.000Z", "plan": "pro",
            "event_name": "Order Completed",
        ])
        #expect(values.skipped.isEmpty)

        let bad = rule.properties(from: try json(#"{"type": "track", "properties": {"order_id": null, "total": "a lot"}}"#))
        #expect(bad.values == ["order_id": nil])
        #expect(bad.values.keys.sorted() == ["order_id"])
        #expect(bad.skipped == ["properties.total": "cannot convert to number: 'a lot' is not a number"])
    }

    @Test func pageTriggerMatchesTheName() throws {
        let rule = try #require(parsed(
            """
            custom_objects:
              - name: visits
                trigger: { type: page, event: Pricing }
                object_type: 2-12345
                properties: { messageId: visit_id, properties.url: url }
                search_fields: visit_id
            """).customObjects.first)
        #expect(rule.matches(try json(#"{"type": "page", "name": "Pricing", "messageId": "m1"}"#)))
        #expect(!rule.matches(try json(#"{"type": "page", "name": "Home"}"#)))
        #expect(rule.association == nil)
    }
}
