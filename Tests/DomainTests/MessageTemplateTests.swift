import Domain
import Testing

/// `{{ contact.<property> }}` placeholders in workflow notification texts: what renders, what is refused.
@Suite struct MessageTemplateTests {
    private func render(_ source: String, _ properties: [String: String]) throws -> String {
        try MessageTemplate(parsing: source).render(properties)
    }

    @Test func aPresentPropertyRendersItsValue() throws {
        #expect(try render("Hi {{ contact.firstname }}!", ["firstname": "Ada"]) == "Hi Ada!")
        #expect(try render("Hi {{contact.firstname}}!", ["firstname": "Ada"]) == "Hi Ada!")
        #expect(
            try render("{{ contact.firstname }} {{ contact.lastname }} ({{ contact.firstname }})", ["firstname": "Ada", "lastname": "L"])
                == "Ada L (Ada)")
        #expect(try render("{{ contact.hs_lead-status }}", ["hs_lead-status": "NEW"]) == "NEW")
    }

    @Test func aMissingOrBlankPropertyRendersEmptyOrItsFallback() throws {
        #expect(try render("Hi {{ contact.firstname }}!", [:]) == "Hi !")
        #expect(try render(#"Hi {{ contact.firstname | default: "there" }}!"#, [:]) == "Hi there!")
        #expect(try render(#"Hi {{ contact.firstname | default: 'there' }}!"#, ["firstname": "  "]) == "Hi there!")
        #expect(try render(#"Hi {{ contact.firstname|default:"there" }}!"#, ["firstname": ""]) == "Hi there!")
        #expect(try render(#"Hi {{ contact.firstname | default: "there" }}!"#, ["firstname": "Ada"]) == "Hi Ada!")
        #expect(try render(#"{{ contact.city | default: "" }}."#, [:]) == ".")
        // The fallback may hold the other quote and braces; it is text, never read as a placeholder.
        #expect(try render(#"{{ contact.x | default: "it's {ok}" }}"#, [:]) == "it's {ok}")
    }

    @Test func textWithoutPlaceholdersIsUnchanged() throws {
        let template = try MessageTemplate(parsing: "Sale: 50% off } and }} too")
        #expect(template.isLiteral)
        #expect(template.render(["firstname": "Ada"]) == "Sale: 50% off } and }} too")
        #expect(try render("", [:]) == "")
    }

    @Test func propertyNamesAreListedOnceInOrder() throws {
        let template = try MessageTemplate(parsing: "{{ contact.b }} {{ contact.a }} {{ contact.b | default: \"x\" }}")
        #expect(template.propertyNames == ["b", "a"])
        #expect(template.parts.count == 5)
        #expect(template.parts.last == .property(name: "b", fallback: "x"))
    }

    @Test(arguments: [
        ("Hi {{ contact.firstname", "never closed"),
        ("Hi {{ contact.firstname {{ contact.lastname }}", "never closed"),
        ("Hi {{ firstname }}", "{{ contact.<property> }}"),
        ("Hi {{ user.tags.plan }}", "{{ contact.<property> }}"),
        ("Hi {{ contact. }}", "no valid property"),
        ("Hi {{ contact.first name }}", "no valid property"),
        ("Hi {{ contact.1st }}", "no valid property"),
        ("Hi {{ contact.firstname | upcase }}", "filter other than default"),
        ("Hi {{ contact.firstname | default: there }}", "one quoted text"),
        (#"Hi {{ contact.firstname | default: "a"b" }}"#, "one quoted text"),
        (#"Hi {{ contact.firstname | default: "there }}"#, "one quoted text"),
        ("{{}}", "{{ contact.<property> }}"),
    ])
    func malformedTemplatesAreRefusedWithTheReason(source: String, reason: String) {
        #expect {
            _ = try MessageTemplate(parsing: source)
        } throws: { error in
            (error as? MessageTemplate.SyntaxError)?.message.contains(reason) == true
        }
    }

    @Test func theErrorSaysWhere() {
        let error = #expect(throws: MessageTemplate.SyntaxError.self) {
            _ = try MessageTemplate(parsing: "Hello {{ contact.a }}, {{ deal.amount }}")
        }
        #expect(error?.message.contains("character 24") == true)
    }

    @Test func hubSpotPropertyValuesBecomeText() {
        let values = MessageTemplate.properties([
            "firstname": .string("Ada"), "score": .int(42), "vip": .bool(true), "ratio": .double(1.5), "gone": .null,
            "nested": .object([:]),
        ])
        #expect(values == ["firstname": "Ada", "score": "42", "vip": "true", "ratio": "1.5"])
    }
}
