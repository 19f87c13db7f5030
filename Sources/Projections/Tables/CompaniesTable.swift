import Domain
import Foundation
import Mapping
import PQ

/// `companies`: one row per company from group calls, with the HubSpot properties the mapping derives.
struct CompaniesTable: PeopleTable {
    static let name = "companies"
    static let columns = [
        "company_id", "group_id", "domain", "name", "traits", "hubspot_properties", "hubspot_company_id", "first_seen_at",
        "last_seen_at", "created_position", "updated_position", "hubspot_acknowledged", "hubspot_failure", "hubspot_pending",
    ]
    let sqlName: String

    /// `company` with the HubSpot properties the mapping derives from its group id and traits, and the domain they give.
    static func deriving(_ company: CompanyRecord, mapping: Mapping) -> CompanyRecord {
        var company = company
        let derived = mapping.companies.hubSpotProperties(groupID: company.groupID, traits: company.traits)
        let audiences = company.accountAudienceProperties(mapping: mapping)
        company.hubSpotProperties = derived.values.mapValues { $0.map(JSONValue.string) ?? .null }
        company.hubSpotProperties.merge(audiences) { rule, _ in rule }
        if let domain = derived.values["domain"] ?? nil { company.domain = domain }
        return company
    }

    /// Inserts or replaces the rows of `companies` (with their derived properties: `deriving(_:mapping:)`).
    func upsert(_ companies: [CompanyRecord], on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (company_id, group_id, domain, name, traits, hubspot_properties,
                hubspot_company_id, first_seen_at, last_seen_at, created_position, updated_position, hubspot_acknowledged,
                hubspot_failure, hubspot_pending)
            SELECT * FROM unnest(\(companies.map(\.id))::text[], \(companies.map(\.groupID))::text[],
                \(PQNullableArray(companies.map(\.domain)))::text[], \(PQNullableArray(companies.map(\.name)))::text[],
                \(companies.map { PeopleTables.jsonb(.object($0.traits)) })::jsonb[],
                \(companies.map { PeopleTables.jsonb(.object($0.hubSpotProperties)) })::jsonb[],
                \(PQNullableArray(companies.map(\.hubSpotCompanyID)))::text[], \(companies.map(\.firstSeenAt))::timestamptz[],
                \(companies.map(\.lastSeenAt))::timestamptz[], \(companies.map(\.createdPosition))::bigint[],
                \(companies.map(\.updatedPosition))::bigint[],
                \(PQNullableArray(companies.map { $0.hubSpotAcknowledged.map { PeopleTables.jsonb(.object($0)) } }))::jsonb[],
                \(PQNullableArray(companies.map(\.hubSpotFailure)))::text[], \(companies.map(\.isHubSpotPending))::boolean[])
            ON CONFLICT (company_id) DO UPDATE SET group_id = EXCLUDED.group_id, domain = EXCLUDED.domain,
                name = EXCLUDED.name, traits = EXCLUDED.traits, hubspot_properties = EXCLUDED.hubspot_properties,
                hubspot_company_id = EXCLUDED.hubspot_company_id, last_seen_at = EXCLUDED.last_seen_at,
                updated_position = EXCLUDED.updated_position, hubspot_acknowledged = EXCLUDED.hubspot_acknowledged,
                hubspot_failure = EXCLUDED.hubspot_failure, hubspot_pending = EXCLUDED.hubspot_pending
            """, name: "people.write_companies")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for stored in state.companies.values {
            let company = deriving(stored, mapping: mapping)
            writer.append(company.id)
            writer.append(company.groupID)
            writer.append(company.domain)
            writer.append(company.name)
            writer.append(json: .object(company.traits))
            writer.append(json: .object(company.hubSpotProperties))
            writer.append(company.hubSpotCompanyID)
            writer.append(time: company.firstSeenAt)
            writer.append(time: company.lastSeenAt)
            writer.append(number: company.createdPosition)
            writer.append(number: company.updatedPosition)
            writer.append(json: company.hubSpotAcknowledged.map(JSONValue.object))
            writer.append(company.hubSpotFailure)
            writer.append(flag: company.isHubSpotPending)
            try writer.endRow()
        }
    }
}
