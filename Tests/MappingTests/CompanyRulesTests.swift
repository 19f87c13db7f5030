import Ingestion
import Mapping
import Testing

@Suite struct CompanyRulesTests {
    @Test func domainFromWebsiteVariants() {
        let cases: [(String, String?)] = [
            ("https://www.acme.com/about", "acme.com"),
            ("http://Acme.COM", "acme.com"),
            ("acme.com", "acme.com"),
            ("www.acme.co.uk/", "acme.co.uk"),
            ("https://user:pw@shop.acme.io:8443/path?q=1#top", "shop.acme.io"),
            ("//cdn.acme.com/x", "cdn.acme.com"),
            ("  https://acme.com.  ", "acme.com"),
            ("https://wwwacme.com", "wwwacme.com"),
            ("not a website", nil),
            ("localhost", nil),
            ("", nil),
        ]
        for (website, domain) in cases {
            #expect(CompanyRules.domain(fromWebsite: website) == domain, "\(website)")
        }
    }

    @Test func defaultProperties() throws {
        let result = CompanyRules.defaults.hubSpotProperties(groupID: "g-1", traits: try object("""
            {"name": "Acme", "industry": "Tools", "employees": "250", "website": "https://www.acme.com/",
             "address": {"city": "Springfield", "postalCode": "62701", "planet": "Earth"}, "plan": "enterprise",
             "description": null}
            """))
        #expect(result.values == [
            "segment_group_id": "g-1", "name": "Acme", "industry": "Tools", "numberofemployees": "250",
            "website": "https://www.acme.com/", "domain": "acme.com", "city": "Springfield", "zip": "62701",
            "description": nil,
        ])
        #expect(result.skipped.keys.sorted() == ["address.planet", "plan"])
    }

    @Test func badEmployeeCountIsSkipped() throws {
        let result = CompanyRules.defaults.hubSpotProperties(groupID: "g", traits: strings(["employees": "many"]))
        #expect(result.values == ["segment_group_id": "g"])
        #expect(result.skipped["employees"] == "cannot convert to number: 'many' is not a number")
    }

    @Test func domainOffAndRulesFromTheFile() throws {
        let rules = try parsed(
            "companies: { group_id_property: external_company_id, domain_from_website: false, properties: { plan: company_plan, domain: domain } }"
        ).companies
        let result = rules.hubSpotProperties(groupID: "g-2", traits: strings(["plan": "pro", "website": "https://acme.com"]))
        #expect(result.values == ["external_company_id": "g-2", "company_plan": "pro", "website": "https://acme.com"])
        let explicit = rules.hubSpotProperties(groupID: "g-2", traits: strings(["domain": "acme.org"]))
        #expect(explicit.values["domain"] == "acme.org")
    }

    @Test func unreadableWebsiteIsReported() {
        let result = CompanyRules.defaults.hubSpotProperties(groupID: "g", traits: strings(["website": "n/a"]))
        #expect(result.values["domain"] == nil)
        #expect(result.values["website"] == "n/a")
        #expect(result.skipped["website"] == "no domain can be read from 'n/a'")
    }

    @Test func groupIDPropertyCannotBeMappedTwice() throws {
        let error = try #require(parseFailure("companies: { properties: { id: segment_group_id } }"))
        #expect(error.path == "companies.properties.id")
    }
}
