import Domain
import Mapping

extension CompanyRecord {
    /// The HubSpot company properties of the company's account-level audiences: one per audience, named and valued as
    /// for person audiences on contacts (`audiences.hubspot_property_prefix`, `hubspot_type`). A company rule for the
    /// same property wins (the caller merges).
    ///
    /// Memberships come from group calls (`accountAudiences`). That map is held in memory: after the projection reloads
    /// the company from its table, an audience is recognised again by a trait without a company rule whose value is a
    /// membership flag and whose audience property the company already had (`hubSpotProperties`, loaded with it).
    func accountAudienceProperties(mapping: Mapping) -> [String: JSONValue] {
        var members = accountAudiences
        for (key, value) in traits where members[key] == nil && mapping.companies.properties[key] == nil {
            guard AudienceRules.isMembershipFlag(value), hubSpotProperties[mapping.audiences.hubSpotProperty(forAudience: key)] != nil
            else { continue }
            members[key] = value == .bool(true) || value.stringValue?.lowercased() == "true"
        }
        var properties: [String: JSONValue] = [:]
        for (audience, isMember) in members {
            let change = AudienceChange(audience: audience, isMember: isMember)
            properties[mapping.audiences.hubSpotProperty(forAudience: audience)] = .string(mapping.audiences.hubSpotValue(for: change))
        }
        return properties
    }
}
