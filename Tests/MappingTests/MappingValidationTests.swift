import Mapping
import Testing

@Suite struct MappingValidationTests {
    @Test func unknownKeySuggestsTheClosest() throws {
        let error = try #require(parseFailure("contacts:\n  unkown_traits: create\n"))
        #expect(error.file == "m.yaml")
        #expect(error.path == "contacts.unkown_traits")
        #expect(error.line == 2)
        #expect(error.message == "unknown key 'unkown_traits'; did you mean 'unknown_traits'?")

        let camel = try #require(parseFailure("onesignal: { tagLimit: 3 }"))
        #expect(camel.path == "onesignal.tagLimit")
        #expect(camel.message.contains("did you mean 'tag_limit'?"))

        let section = try #require(parseFailure("contact: {}"))
        #expect(section.path == "contact")
        #expect(section.message.contains("did you mean 'contacts'?"))

        let far = try #require(parseFailure("companies: { colour: blue }"))
        #expect(far.path == "companies.colour")
        #expect(far.message.contains("the keys here are enabled, group_id_property"))
    }

    @Test func wrongTypes() throws {
        let tagLimit = try #require(parseFailure("onesignal:\n  tag_limit: ten\n"))
        #expect(tagLimit.path == "onesignal.tag_limit")
        #expect(tagLimit.message == "expected a whole number, found 'ten'")

        let enabled = try #require(parseFailure("behavioral_events: { enabled: 3 }"))
        #expect(enabled.path == "behavioral_events.enabled")
        #expect(enabled.message.contains("expected true or false"))

        let section = try #require(parseFailure("contacts: [a, b]"))
        #expect(section.path == "contacts")
        #expect(section.message.contains("found a list"))

        let properties = try #require(parseFailure("contacts: { properties: [firstName] }"))
        #expect(properties.path == "contacts.properties")

        let root = try #require(parseFailure("just text"))
        #expect(root.path == "")
        #expect(root.message.contains("expected a mapping with the sections"))

        let list = try #require(parseFailure("custom_objects: { name: x }"))
        #expect(list.path == "custom_objects")
        #expect(list.message.contains("expected a list of custom object rules"))
    }

    @Test func badEnumValues() throws {
        let type = try #require(parseFailure("contacts:\n  properties:\n    firstName:\n      property: firstname\n      type: text\n"))
        #expect(type.path == "contacts.properties.firstName.type")
        #expect(type.line == 5)
        #expect(type.message == "unknown value 'text'; use one of string, number, bool, date, datetime")

        let policy = try #require(parseFailure("contacts: { unknown_traits: dropp }"))
        #expect(policy.path == "contacts.unknown_traits")
        #expect(policy.message.contains("did you mean 'drop'?"))

        let match = try #require(parseFailure("onesignal: { match_by: externalid }"))
        #expect(match.path == "onesignal.match_by")
        #expect(match.message.contains("did you mean 'external_id'?"))

        let pages = try #require(parseFailure("page_views: { pages: per-page }"))
        #expect(pages.path == "page_views.pages")

        let pagesOn = try #require(parseFailure("page_views: { screens: on }"))
        #expect(pagesOn.path == "page_views.screens")
        #expect(pagesOn.message.contains("write per_name"))

        let style = try #require(parseFailure("audiences: { styles: [engage, adobe] }"))
        #expect(style.path == "audiences.styles[1]")
    }

    @Test func invalidPropertyNames() throws {
        let contact = try #require(parseFailure("contacts: { properties: { plan: Plan-Tier } }"))
        #expect(contact.path == "contacts.properties.plan")
        #expect(contact.message.contains("'Plan-Tier' is not a HubSpot internal name"))
        #expect(contact.message.contains("such as 'plan_tier'"))

        let long = try #require(parseFailure("contacts: { properties: { plan: { property: 1plan } } }"))
        #expect(long.path == "contacts.properties.plan.property")

        let group = try #require(parseFailure("companies: { group_id_property: GroupId }"))
        #expect(group.path == "companies.group_id_property")

        let event = try #require(parseFailure("behavioral_events: { events: { Signed Up: Signed Up } }"))
        #expect(event.path == "behavioral_events.events.Signed Up")

        let eventProperty = try #require(parseFailure("behavioral_events: { events: { X: { properties: { revenue: Amount } } } }"))
        #expect(eventProperty.path == "behavioral_events.events.X.properties.revenue")

        let fixed = try #require(parseFailure("page_views: { pages: { fixed: Page Viewed } }"))
        #expect(fixed.path == "page_views.pages.fixed")

        let prefix = try #require(parseFailure("audiences: { hubspot_property_prefix: Aud- }"))
        #expect(prefix.path == "audiences.hubspot_property_prefix")

        let reverse = try #require(parseFailure("hubspot_to_onesignal: { properties: { LifecycleStage: stage } }"))
        #expect(reverse.path == "hubspot_to_onesignal.properties.LifecycleStage")
    }

    @Test func fileFormatVersion() throws {
        let two = try #require(parseFailure("version: 2\n"))
        #expect(two.path == "version")
        #expect(two.line == 1)
        #expect(two.message == "unsupported mapping file format the number 2; this HubSignal reads version: 1")
        let text = try #require(parseFailure("version: one\n"))
        #expect(text.path == "version")
        #expect(try parsed("version: 1") == Mapping.defaults)
    }

    @Test func tagLimitAndTagNames() throws {
        let zero = try #require(parseFailure("onesignal: { tag_limit: 0 }"))
        #expect(zero.path == "onesignal.tag_limit")
        #expect(zero.message.contains("at least 1"))
        let reserved = try #require(parseFailure("onesignal: { renames: { msg: message } }"))
        #expect(reserved.path == "onesignal.renames.msg")
        #expect(reserved.message.contains("reserved by OneSignal"))
        let separator = try #require(parseFailure("onesignal: { nested: { flatten: \"\" } }"))
        #expect(separator.path == "onesignal.nested")
        let writeKey = try #require(parseFailure("onesignal: { apps: { by_write_key: { sk_live_secret: [ios] } } }"))
        #expect(writeKey.path == "onesignal.apps.by_write_key.sk_live_secret")
        #expect(writeKey.message.contains("never the key itself"))
        let both = try #require(parseFailure("onesignal: { apps: { by_trait: { trait: b, apps: {} }, by_write_key: {} } }"))
        #expect(both.path == "onesignal.apps")
        let missingTrait = try #require(parseFailure("onesignal: { apps: { by_trait: { apps: { a: [x] } } } }"))
        #expect(missingTrait.path == "onesignal.apps.by_trait")
        #expect(missingTrait.message.hasPrefix("missing 'trait'"))
    }

    @Test func behavioralEventPropertyLimit() throws {
        let fifty = (1...50).map { "p\($0): p\($0)" }.joined(separator: ", ")
        #expect(parseFailure("behavioral_events: { events: { X: { properties: { \(fifty) } } } }") == nil)
        let error = try #require(parseFailure("behavioral_events: { events: { X: { properties: { \(fifty), p51: p51 } } } }"))
        #expect(error.path == "behavioral_events.events.X.properties")
        #expect(error.message == "51 properties; HubSpot takes at most 50 per event")
    }

    @Test func customObjectRules() throws {
        let valid = """
            custom_objects:
              - name: orders
                trigger: { type: track, event: Order Completed }
                object_type: p_orders
                properties: { properties.order_id: order_id }
                search_fields: [order_id]
            """
        #expect(parseFailure(valid) == nil)

        let duplicate = try #require(parseFailure(valid + "\n" + valid.split(separator: "\n").dropFirst().joined(separator: "\n")))
        #expect(duplicate.path == "custom_objects[1].name")
        #expect(duplicate.message.contains("unique"))

        let unmapped = try #require(parseFailure(valid.replacingOccurrences(of: "search_fields: [order_id]", with: "search_fields: [order_id, sku]")))
        #expect(unmapped.path == "custom_objects[0].search_fields[1]")
        #expect(unmapped.message.contains("'sku' is not mapped"))

        let noSearch = try #require(parseFailure(valid.replacingOccurrences(of: "search_fields: [order_id]", with: "search_fields: []")))
        #expect(noSearch.path == "custom_objects[0].search_fields")

        let badType = try #require(parseFailure(valid.replacingOccurrences(of: "type: track", with: "type: trak")))
        #expect(badType.path == "custom_objects[0].trigger.type")
        #expect(badType.message.contains("did you mean 'track'?"))

        let badObject = try #require(parseFailure(valid.replacingOccurrences(of: "p_orders", with: "Orders!")))
        #expect(badObject.path == "custom_objects[0].object_type")
        #expect(parseFailure(valid.replacingOccurrences(of: "p_orders", with: "2-12345")) == nil)

        let misspelled = valid.replacingOccurrences(of: "properties.order_id: order_id", with: "propertys.order_id: order_id")
        let badPath = try #require(parseFailure(misspelled))
        #expect(badPath.path == "custom_objects[0].properties.propertys.order_id")
        #expect(badPath.message.contains("did you mean 'properties'?"))

        let missing = try #require(parseFailure(valid.replacingOccurrences(of: "    object_type: p_orders\n", with: "")))
        #expect(missing.path == "custom_objects[0]")
        #expect(missing.message.hasPrefix("missing 'object_type'"))

        let eventOnIdentify = try #require(parseFailure(valid.replacingOccurrences(of: "type: track", with: "type: identify")))
        #expect(eventOnIdentify.path == "custom_objects[0].trigger.event")

        let association = try #require(parseFailure(valid + "\n    associate: { to: deals }"))
        #expect(association.path == "custom_objects[0].associate.to")
    }

    @Test func conditionsMustBeWellFormed() throws {
        func rule(_ condition: String) -> String {
            """
            custom_objects:
              - name: orders
                trigger: { type: track, conditions: [ \(condition) ] }
                object_type: p_orders
                properties: { properties.order_id: order_id }
                search_fields: [order_id]
            """
        }
        #expect(parseFailure(rule("{ path: properties.currency, equals: USD }")) == nil)
        #expect(parseFailure(rule("{ path: properties.coupon, exists: true }")) == nil)
        let none = try #require(parseFailure(rule("{ path: properties.currency }")))
        #expect(none.path == "custom_objects[0].trigger.conditions[0]")
        #expect(none.message.contains("missing the test"))
        let two = try #require(parseFailure(rule("{ path: properties.currency, equals: USD, contains: U }")))
        #expect(two.path == "custom_objects[0].trigger.conditions[0]")
        #expect(two.message.contains("one test per condition"))
        let noPath = try #require(parseFailure(rule("{ equals: USD }")))
        #expect(noPath.message.hasPrefix("missing 'path'"))
        let typo = try #require(parseFailure(rule("{ path: properties.currency, equal: USD }")))
        #expect(typo.path == "custom_objects[0].trigger.conditions[0].equal")
        #expect(typo.message.contains("did you mean 'equals'?"))
        let exists = try #require(parseFailure(rule("{ path: properties.coupon, exists: maybe }")))
        #expect(exists.path == "custom_objects[0].trigger.conditions[0].exists")
    }

    @Test func yamlSyntaxErrorsNameTheLine() throws {
        let error = try #require(parseFailure("contacts:\n  properties: { a: b\nonesignal: {}\n"))
        #expect(error.path == "")
        #expect(error.line != nil)
        #expect(error.message.hasPrefix("not valid YAML"))

        let duplicate = try #require(parseFailure("contacts: {}\ncontacts: {}\n"))
        #expect(duplicate.path == "")
        #expect(duplicate.line == 1)
        #expect(duplicate.message.contains("appears twice"))
    }
}
