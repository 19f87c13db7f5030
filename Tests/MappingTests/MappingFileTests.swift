import Foundation
import Ingestion
import Mapping
import Testing

@Suite struct MappingFileTests {
    @Test func emptyFileMeansDefaults() throws {
        for text in ["", "\n\n", "# only a comment\n", "---\n"] {
            let mapping = try Mapping.parse(text)
            #expect(mapping == Mapping.defaults)
        }
        let defaults = Mapping.defaults
        #expect(defaults.contacts.unknownTraits == .existing)
        #expect(defaults.contacts.properties.isEmpty)
        #expect(defaults.oneSignal.matchBy == .externalID)
        #expect(defaults.oneSignal.traits == .all)
        #expect(defaults.oneSignal.trackProperties == TagSelection.none)
        #expect(defaults.oneSignal.renames == ["firstName": "first_name", "lastName": "last_name"])
        #expect(defaults.oneSignal.nested == .drop)
        #expect(defaults.oneSignal.tagLimit == 10)
        #expect(defaults.oneSignal.apps == .all)
        #expect(defaults.behavioralEvents.enabled == false)
        #expect(defaults.behavioralEvents.events.isEmpty)
        #expect(defaults.behavioralEvents.sendUnlisted)
        #expect(defaults.pageViews.pages == .off)
        #expect(defaults.pageViews.screens == .off)
        #expect(defaults.companies.enabled)
        #expect(defaults.companies.groupIDProperty == "segment_group_id")
        #expect(defaults.companies.domainFromWebsite)
        #expect(defaults.companies.associateContact)
        #expect(defaults.companies.properties["employees"] == PropertyRule(property: "numberofemployees", type: .number))
        #expect(defaults.customObjects.isEmpty)
        #expect(defaults.audiences.styles == [.engage, .aep])
        #expect(defaults.audiences.hubSpotType == .bool)
        #expect(defaults.audiences.hubSpotPropertyPrefix == "")
        #expect(defaults.audiences.oneSignalTagPrefix == "")
        #expect(defaults.hubSpotToOneSignal.properties.isEmpty)
        #expect(defaults.version.count == 16)
        #expect(defaults.version.allSatisfy { $0.isHexDigit })
    }

    @Test func emptySectionsMeanDefaults() throws {
        let mapping = try parsed("version: 1\ncontacts:\nonesignal: {}\ncompanies: ~\n")
        #expect(mapping == Mapping.defaults)
    }

    @Test func theRepositoryExampleParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("hubsignal.yaml").path
        let mapping = try Mapping.load(contentsOf: path)
        // The example works out of the box: it writes the defaults out and switches nothing on that needs more than a
        // HubSpot and a OneSignal account.
        #expect(mapping.behavioralEvents.enabled == false)
        #expect(mapping.pageViews == PageViewRules.defaults)
        #expect(mapping.contacts.unknownTraits == .existing)
        #expect(mapping.oneSignal.tagLimit == 10)
        // It writes the defaults out, so it means exactly what no file means.
        #expect(mapping == Mapping.defaults)
    }

    @Test func fullExample() throws {
        let mapping = try parsed(
            """
            version: 1
            contacts:
              unknown_traits: create
              properties:
                firstName: firstname            # short form
                plan: { property: plan_tier, type: string }
                signed_up_at: { property: signup_date, type: date }
                score: { type: number }         # property from the default conversion
            onesignal:
              match_by: email
              traits: [plan, firstName]
              track_properties: [plan, last_order_id]
              renames: { plan: plan_name }
              nested: { flatten: "_" }
              tag_limit: 100
              apps: { by_trait: { trait: brand, apps: { acme: [acme-ios, acme-web], "*": default } } }
            behavioral_events:
              enabled: true
              events:
                "Order Completed": { name: order_completed, properties: { revenue: amount } }
                "Signed Up": signed_up
            page_views: { pages: per_name, screens: { fixed: screen_viewed } }
            companies:
              { group_id_property: external_company_id, domain_from_website: false, associate_contact: false,
                properties: { plan: company_plan } }
            custom_objects:
              - name: orders
                trigger: { type: track, event: Order Completed, conditions: [ { path: properties.currency, equals: USD } ] }
                object_type: p_orders
                properties: { properties.order_id: order_id, properties.total: { property: amount, type: number } }
                search_fields: [order_id]
                create_if_missing: false
                associate: { to: contacts, label: buyer }
            audiences: { styles: [aep], hubspot_property_prefix: aud_, hubspot_type: status, onesignal_tag_prefix: "aud_", aep_audiences: [vip] }
            hubspot_to_onesignal: { properties: { lifecyclestage: lifecycle_stage } }
            """)
        #expect(mapping.contacts.unknownTraits == .create)
        #expect(mapping.contacts.properties["firstName"] == PropertyRule(property: "firstname"))
        #expect(mapping.contacts.properties["signed_up_at"] == PropertyRule(property: "signup_date", type: .date))
        #expect(mapping.contacts.properties["score"] == PropertyRule(property: "score", type: .number))
        #expect(mapping.oneSignal.matchBy == .email)
        #expect(mapping.oneSignal.traits == .only(["firstName", "plan"]))  // kept sorted
        #expect(mapping.oneSignal.renames == ["firstName": "first_name", "lastName": "last_name", "plan": "plan_name"])
        #expect(mapping.oneSignal.nested == .flatten(separator: "_"))
        #expect(mapping.oneSignal.tagLimit == 100)
        #expect(mapping.oneSignal.apps == .byTrait(trait: "brand", apps: ["acme": ["acme-ios", "acme-web"], "*": ["default"]]))
        #expect(mapping.behavioralEvents.enabled)
        #expect(mapping.behavioralEvents.sendUnlisted == false)
        #expect(mapping.behavioralEvents.events["Order Completed"] == EventRule(name: "order_completed", properties: ["revenue": "amount"]))
        #expect(mapping.behavioralEvents.events["Signed Up"] == EventRule(name: "signed_up"))
        #expect(mapping.pageViews == PageViewRules(pages: .perName, screens: .fixed(eventName: "screen_viewed")))
        #expect(mapping.companies.groupIDProperty == "external_company_id")
        #expect(mapping.companies.domainFromWebsite == false)
        #expect(mapping.companies.associateContact == false)
        #expect(mapping.companies.properties["plan"] == PropertyRule(property: "company_plan"))
        #expect(mapping.companies.properties["name"] == PropertyRule(property: "name"))
        let orders = try #require(mapping.customObjects.first)
        #expect(orders.name == "orders")
        let currency = CustomObjectRule.Condition(path: "properties.currency", op: .equals, value: .string("USD"))
        #expect(orders.trigger == .init(type: "track", event: "Order Completed", conditions: [currency]))
        #expect(orders.objectType == "p_orders")
        #expect(orders.properties["properties.total"] == PropertyRule(property: "amount", type: .number))
        #expect(orders.searchFields == ["order_id"])
        #expect(orders.createIfMissing == false)
        #expect(orders.association == .init(toObject: "contacts", label: "buyer"))
        #expect(mapping.audiences == AudienceRules(
            styles: [.aep], hubSpotPropertyPrefix: "aud_", hubSpotType: .status, oneSignalTagPrefix: "aud_", aepAudiences: ["vip"]))
        #expect(mapping.hubSpotToOneSignal.properties == ["lifecyclestage": "lifecycle_stage"])
    }

    // MARK: - Version

    @Test func versionIgnoresCommentsWhitespaceAndKeyOrder() throws {
        let a = try parsed(
            """
            contacts:
              unknown_traits: create
              properties: { plan: plan_tier, score: { property: score, type: number } }
            onesignal: { tag_limit: 5, traits: [b, a] }
            """)
        let b = try parsed(
            """
            # the same mapping, written differently
            onesignal:
                traits:
                  - a
                  - b
                tag_limit: 5        # Growth plan

            contacts:
                properties:
                    score:
                        type: number
                        property: score
                    plan: plan_tier
                unknown_traits: create
            """)
        #expect(a.version == b.version)
        #expect(a == b)
    }

    @Test func writingOutDefaultsKeepsTheVersion() throws {
        let explicit = try parsed(
            """
            version: 1
            contacts: { unknown_traits: existing, lifecycle_backwards: keep }
            onesignal: { match_by: external_id, traits: all, track_properties: none, nested: drop, tag_limit: 10, apps: all }
            behavioral_events: { enabled: false }
            page_views: { pages: off, screens: off }
            audiences: { styles: [engage, aep], hubspot_type: bool }
            """)
        #expect(explicit.version == Mapping.defaults.version)
    }

    @Test func semanticChangesChangeTheVersion() throws {
        let base = try parsed("onesignal: { tag_limit: 10 }")
        #expect(try parsed("onesignal: { tag_limit: 11 }").version != base.version)
        #expect(try parsed("contacts: { properties: { plan: plan_tier } }").version != base.version)
        #expect(try parsed("contacts: { properties: { plan: { property: plan_tier, type: number } } }").version
            != parsed("contacts: { properties: { plan: plan_tier } }").version)
        #expect(try parsed("page_views: { pages: per_name }").version != base.version)
    }

    @Test func initComputesTheVersion() {
        #expect(Mapping().version == Mapping.defaults.version)
        #expect(Mapping(oneSignal: OneSignalRules(tagLimit: 2)).version != Mapping.defaults.version)
    }

    // MARK: - Loading

    @Test func missingFileIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString).yaml").path
        #expect(throws: MappingError.self) { try Mapping.load(contentsOf: path) }
        do {
            _ = try Mapping.load(contentsOf: path)
        } catch {
            #expect(error.file == path)
            #expect(error.path == "")
            #expect(error.message.contains("no such mapping file"))
        }
        #expect(try Mapping.loadIfPresent(contentsOf: path) == Mapping.defaults)
    }

    @Test func loadReadsAFileAndNamesItInErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mapping-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "onesignal:\n  tag_limit: 2\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Mapping.load(contentsOf: path).oneSignal.tagLimit == 2)
        try "onesignal:\n  tag_limit: 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try Mapping.load(contentsOf: path)
            Issue.record("a tag limit of 0 must fail")
        } catch {
            #expect(error == MappingError(file: path, path: "onesignal.tag_limit", message: error.message, line: 2))
            #expect(error.description.hasPrefix("\(path):2: onesignal.tag_limit: "))
        }
    }
}
