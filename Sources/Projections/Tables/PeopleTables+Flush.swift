import Foundation
import Mapping
import PQ

/// Writing the working set's changes through one connection (in the caller's transaction).
extension PeopleTables {
    /// Writes the changes in `state` (erasures and merges first, then rows) and forgets them.
    func flush(_ state: inout PeopleState, mapping: Mapping, on connection: PQConnection) async throws {
        guard state.hasChanges else { return }
        state.tablesAreEmpty = false
        if !state.erasedContacts.isEmpty { try await deleteErased(Array(state.erasedContacts), on: connection) }
        if !state.merges.isEmpty { try await writeMerges(state, on: connection) }
        if !state.dirtyIdentities.isEmpty { try await identities.upsert(Array(state.dirtyIdentities), of: state, on: connection) }
        let changedContacts = state.dirtyContacts.compactMap { state.contacts[$0] }
        // What the mapping derives for HubSpot is worked out once per written contact, for its row and its sync status.
        let derived = changedContacts.map { Self.hubSpotProperties(of: $0, mapping: mapping) }
        if !changedContacts.isEmpty {
            try await contacts.upsert(changedContacts, hubSpotProperties: derived, on: connection)
            try await syncStatus.upsert(changedContacts, hubSpotProperties: derived, mapping: mapping, on: connection)
        }
        if !state.companyMerges.isEmpty { try await writeCompanyMerges(state, on: connection) }
        if !state.dirtyCompanyIdentities.isEmpty {
            try await companyIdentities.upsert(Array(state.dirtyCompanyIdentities), of: state, on: connection)
        }
        // The derived properties and domain are kept in the working set: they are what the table now holds.
        let changedCompanies = state.dirtyCompanies.compactMap { id -> CompanyRecord? in
            guard let company = state.companies[id] else { return nil }
            let derived = CompaniesTable.deriving(company, mapping: mapping)
            state.companies[id] = derived
            return derived
        }
        if !changedCompanies.isEmpty { try await companies.upsert(changedCompanies, on: connection) }
        if !changedContacts.isEmpty {
            try await audienceMemberships.replace(of: changedContacts, clearingFirst: !state.isComplete, on: connection)
            try await contactCompanies.upsert(linksOf: changedContacts, in: state, on: connection)
        }
        if !state.devices.isEmpty { try await devices.upsert(Array(state.devices.values), in: state, on: connection) }
        if !state.activities.isEmpty { try await messageActivity.insert(state.activities, in: state, on: connection) }
        state.clearChanges()
    }

    /// Deletes every row of erased contacts (`hubsignal erase`) from the people tables.
    func deleteErased(_ ids: [String], on connection: PQConnection) async throws {
        let tables = [
            ContactsTable.name, AudienceMembershipsTable.name, ContactCompaniesTable.name, DevicesTable.name,
            MessageActivityTable.name, SyncStatusTable.name, IdentitiesTable.name,
        ]
        for name in tables {
            try await connection.execute(
                "DELETE FROM \(unsafeRaw: table(name)) WHERE contact_id = ANY(\(ids)::text[])", name: "people.erase_\(name)")
        }
        try await connection.execute(
            """
            DELETE FROM \(unsafeRaw: contactMerges.sqlName)
            WHERE merged_contact_id = ANY(\(ids)::text[]) OR into_contact_id = ANY(\(ids)::text[])
            """, name: "people.erase_merges")
    }

    /// Moves the rows of merged contacts to the survivors (identities, devices, activity) or deletes them (the
    /// survivor's rows are written in full), and records the merges.
    private func writeMerges(_ state: PeopleState, on connection: PQConnection) async throws {
        let merges = state.merges
        let froms = merges.map(\.from)
        let finals = merges.map { state.resolve($0.into) }
        for name in [IdentitiesTable.name, DevicesTable.name, MessageActivityTable.name] {
            try await connection.execute(
                """
                UPDATE \(unsafeRaw: table(name)) t SET contact_id = m.into_id
                FROM unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) WHERE t.contact_id = m.from_id
                """, name: "people.merge_\(name)")
        }
        for name in [ContactsTable.name, AudienceMembershipsTable.name, ContactCompaniesTable.name, SyncStatusTable.name] {
            try await connection.execute(
                "DELETE FROM \(unsafeRaw: table(name)) WHERE contact_id = ANY(\(froms)::text[])", name: "people.merge_delete_\(name)")
        }
        try await contactMerges.insert(merges, on: connection)
    }

    /// Moves the identities and contact links of merged companies to the survivors, deletes the merged companies, and
    /// records the merges.
    private func writeCompanyMerges(_ state: PeopleState, on connection: PQConnection) async throws {
        let merges = state.companyMerges
        let froms = merges.map(\.from)
        let finals = merges.map { state.resolveCompany($0.into) }
        try await connection.execute(
            """
            UPDATE \(unsafeRaw: companyIdentities.sqlName) t SET company_id = m.into_id
            FROM unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) WHERE t.company_id = m.from_id
            """, name: "people.merge_company_identities")
        // Links move to the surviving company; a contact linked to both keeps one link with the widest dates.
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: contactCompanies.sqlName) (contact_id, company_id, first_seen_at, last_seen_at)
            SELECT cc.contact_id, m.into_id, min(cc.first_seen_at), max(cc.last_seen_at)
            FROM \(unsafeRaw: contactCompanies.sqlName) cc
            JOIN unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) ON cc.company_id = m.from_id
            GROUP BY cc.contact_id, m.into_id
            ON CONFLICT (contact_id, company_id) DO UPDATE
            SET first_seen_at = LEAST(contact_companies.first_seen_at, EXCLUDED.first_seen_at),
                last_seen_at = GREATEST(contact_companies.last_seen_at, EXCLUDED.last_seen_at)
            """, name: "people.merge_company_links")
        try await connection.execute(
            "DELETE FROM \(unsafeRaw: contactCompanies.sqlName) WHERE company_id = ANY(\(froms)::text[])",
            name: "people.merge_delete_company_links")
        try await connection.execute(
            "DELETE FROM \(unsafeRaw: companies.sqlName) WHERE company_id = ANY(\(froms)::text[])",
            name: "people.merge_delete_companies")
        try await companyMerges.insert(merges, on: connection)
    }
}
