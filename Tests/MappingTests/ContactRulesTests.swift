import Ingestion
import Mapping
import Testing

@Suite struct ContactRulesTests {
    let rules = ContactRules.defaults

    @Test func segmentDefaultNames() throws {
        let result = rules.hubSpotProperties(from: try object("""
            {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "phone": "+44 20",
             "website": "https://ada.dev", "title": "Countess", "companyName": "Analytical Engines",
             "lifecycle_stage": "customer", "Mobile Phone": "+44 7"}
            """))
        #expect(result.values == [
            "firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com", "phone": "+44 20",
            "website": "https://ada.dev", "jobtitle": "Countess", "company": "Analytical Engines",
            "lifecyclestage": "customer", "mobile_phone": "+44 7",
        ])
        // "Mobile Phone" → "mobile_phone" (lower-cased, space → underscore), which is not a standard property: kept by
        // the default `unknown_traits: existing` (the sync sends it if the account has it), left out with `drop`.
        #expect(result.propertiesToCreate.isEmpty)
        let strict = ContactRules(unknownTraits: .drop).hubSpotProperties(from: try object(#"{"Mobile Phone": "+44 7"}"#))
        #expect(strict.skipped["Mobile Phone"]?.contains("'mobile_phone' is not a standard HubSpot contact property") == true)
    }

    @Test func lowerCasingAndSpacesWithCreate() throws {
        let create = ContactRules(unknownTraits: .create)
        let result = create.hubSpotProperties(from: try object("""
            {"Favorite Color": "blue", "PLAN": "pro", "MobilePhone": "+1", "favorite-food": "pie"}
            """))
        #expect(result.values == ["favorite_color": "blue", "plan": "pro", "mobilephone": "+1"])
        #expect(result.propertiesToCreate == ["favorite_color": .string, "plan": .string])
        #expect(result.skipped["favorite-food"]?.contains("cannot be a HubSpot property name") == true)
    }

    @Test func unknownTraitsDropVersusCreate() throws {
        let traits = try object(#"{"email": "a@b.c", "plan": "pro", "age": 42}"#)
        let dropped = ContactRules(unknownTraits: .drop).hubSpotProperties(from: traits)
        #expect(dropped.values == ["email": "a@b.c"])
        #expect(Set(dropped.skipped.keys) == ["plan", "age"])
        #expect(dropped.propertiesToCreate.isEmpty)

        let created = ContactRules(unknownTraits: .create).hubSpotProperties(from: traits)
        #expect(created.values == ["email": "a@b.c", "plan": "pro", "age": "42"])
        #expect(created.skipped.isEmpty)
        #expect(created.propertiesToCreate == ["plan": .string, "age": .string])
    }

    @Test func addressFields() throws {
        let result = rules.hubSpotProperties(from: try object("""
            {"address": {"street": "1 Main St", "city": "Springfield", "state": "IL", "postalCode": "62701",
                         "country": "US", "floor": 3}}
            """))
        #expect(result.values == ["address": "1 Main St", "city": "Springfield", "state": "IL", "zip": "62701", "country": "US"])
        #expect(result.skipped["address.floor"]?.contains("nested value without a rule") == true)
    }

    @Test func companyObjectName() throws {
        let result = rules.hubSpotProperties(from: try object(#"{"company": {"name": "Acme", "plan": "pro"}}"#))
        #expect(result.values == ["company": "Acme"])
        #expect(result.skipped.keys.sorted() == ["company.plan"])
    }

    @Test func nullAndBlankClear() throws {
        let result = rules.hubSpotProperties(from: try object(#"{"firstName": null, "lastName": "  ", "phone": ""}"#))
        #expect(result.values == ["firstname": nil, "lastname": nil, "phone": nil])
        #expect(result.values.keys.sorted() == ["firstname", "lastname", "phone"])
    }

    @Test func explicitRulesAndDottedPaths() throws {
        let mapping = try parsed(
            """
            contacts:
              properties:
                plan: plan_tier
                address.city: { property: home_city }
                prefs.newsletter: { property: newsletter_opt_in, type: bool }
            """)
        let result = mapping.contacts.hubSpotProperties(from: try object("""
            {"plan": "pro", "address": {"city": "Paris", "state": "IDF"}, "prefs": {"newsletter": "yes"}}
            """))
        #expect(result.values == ["plan_tier": "pro", "home_city": "Paris", "state": "IDF", "newsletter_opt_in": "true"])
        #expect(result.skipped.isEmpty)
    }

    @Test func typeConversions() throws {
        let mapping = try parsed(
            """
            contacts:
              properties:
                score: { property: score, type: number }
                ratio: { property: ratio, type: number }
                text_number: { property: text_number, type: number }
                vip: { property: vip, type: bool }
                one: { property: one, type: bool }
                signed_up_at: { property: signup_date, type: date }
                born: { property: born, type: date }
                epoch_day: { property: epoch_day, type: date }
                seen_at: { property: seen_at, type: datetime }
                seen_local: { property: seen_local, type: datetime }
                seen_ms: { property: seen_ms, type: datetime }
                seen_day: { property: seen_day, type: datetime }
                tags: { property: interests }
                flag_text: { property: flag_text }
            """)
        let result = mapping.contacts.hubSpotProperties(from: try object("""
            {"score": 17, "ratio": 2.5, "text_number": " 42 ", "vip": true, "one": 1,
             "signed_up_at": "2026-11-01T23:30:00-02:00", "born": "1815-12-10", "epoch_day": 1430438400000,
             "seen_at": "2026-11-01T10:00:00+01:00", "seen_local": "2026-11-01T10:00:00.5Z", "seen_ms": 1572480000000,
             "seen_day": "2026-02-28", "tags": ["a", "b"], "flag_text": false}
            """))
        #expect(result.values["score"] == "17")
        #expect(result.values["ratio"] == "2.5")
        #expect(result.values["text_number"] == "42")
        #expect(result.values["vip"] == "true")
        #expect(result.values["one"] == "true")
        #expect(result.values["signup_date"] == "2026-11-02")  // 23:30 at -02:00 is the next day in UTC
        #expect(result.values["born"] == "1815-12-10")
        #expect(result.values["epoch_day"] == "2015-05-01")
        #expect(result.values["seen_at"] == "2026-11-01T09:00:00.000Z")
        #expect(result.values["seen_local"] == "2026-11-01T10:00:00.500Z")
        #expect(result.values["seen_ms"] == "2019-10-31T00:00:00.000Z")
        #expect(result.values["seen_day"] == "2026-02-28T00:00:00.000Z")
        #expect(result.values["interests"] == "a;b")
        #expect(result.values["flag_text"] == "false")
        #expect(result.skipped.isEmpty)
    }

    @Test func badValuesAreSkippedWithAReason() throws {
        let mapping = try parsed(
            """
            contacts:
              properties:
                score: { property: score, type: number }
                vip: { property: vip, type: bool }
                born: { property: born, type: date }
                seen_at: { property: seen_at, type: datetime }
                profile: { property: profile }
            """)
        let result = mapping.contacts.hubSpotProperties(from: try object("""
            {"score": "lots", "vip": "maybe", "born": "2026-02-30", "seen_at": "yesterday", "profile": {"a": 1}}
            """))
        #expect(result.values.isEmpty)
        #expect(result.skipped["score"] == "cannot convert to number: 'lots' is not a number")
        #expect(result.skipped["vip"] == "cannot convert to bool: 'maybe' is not a boolean (true/false)")
        #expect(result.skipped["born"]?.hasPrefix("cannot convert to date:") == true)
        #expect(result.skipped["seen_at"]?.hasPrefix("cannot convert to datetime:") == true)
        #expect(result.skipped["profile"]?.contains("nested object") == true)
    }

    @Test func twoTraitsForOneProperty() throws {
        let defaults = rules.hubSpotProperties(from: try object(#"{"firstName": "Ada", "first_name": "Augusta"}"#))
        #expect(defaults.values == ["firstname": "Ada"])
        #expect(defaults.skipped["first_name"] == "'firstname' already comes from 'firstName'")

        let explicit = try parsed("contacts: { properties: { given: firstname } }").contacts
        let result = explicit.hubSpotProperties(from: try object(#"{"firstName": "Ada", "given": "Augusta"}"#))
        #expect(result.values == ["firstname": "Augusta"])
        #expect(result.skipped["firstName"] == "'firstname' comes from 'given', which has a rule")
    }

    @Test func createListsExplicitCustomProperties() throws {
        let mapping = try parsed(
            "contacts: { unknown_traits: create, properties: { joined: { property: joined_on, type: date }, firstName: firstname } }")
        let result = mapping.contacts.hubSpotProperties(from: try object(#"{"joined": "2026-01-05", "firstName": "Ada"}"#))
        #expect(result.propertiesToCreate == ["joined_on": .date])
    }
}
