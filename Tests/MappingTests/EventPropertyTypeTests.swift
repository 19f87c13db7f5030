import Mapping
import Testing

/// The types HubSignal gives behavioral event properties it defines, from the values seen.
@Suite struct EventPropertyTypeTests {
    @Test func typesComeFromEveryValueSeen() {
        #expect(BehavioralEventRules.propertyType(of: ["42", "-3.5", "0", "0.25"]) == "number")
        #expect(BehavioralEventRules.propertyType(of: ["true", "false"]) == "bool")
        #expect(BehavioralEventRules.propertyType(of: ["2026-12-06T10:00:00Z", "2026-12-06T10:00:00.123+01:00", "2026-12-06T10:00Z"]) == "datetime")
        #expect(BehavioralEventRules.propertyType(of: ["EUR"]) == "string")
        #expect(BehavioralEventRules.propertyType(of: []) == "string")
    }

    @Test func textThatOnlyLooksNumericStaysText() {
        #expect(BehavioralEventRules.propertyType(of: ["02139"]) == "string")  // a postcode
        #expect(BehavioralEventRules.propertyType(of: ["1234567890123456"]) == "string")  // an id: more than 15 digits
        #expect(BehavioralEventRules.propertyType(of: ["1e5"]) == "string")
        #expect(BehavioralEventRules.propertyType(of: ["42", "abc"]) == "string")
        #expect(BehavioralEventRules.propertyType(of: ["1.", ".5", "-"]) == "string")
        #expect(BehavioralEventRules.propertyType(of: ["2026-12-06"]) == "string")  // a date without a time
        #expect(BehavioralEventRules.propertyType(of: ["2026-12-06T10:00:00"]) == "string")  // no zone
        #expect(BehavioralEventRules.propertyType(of: ["true", "yes"]) == "string")
    }
}
