import Domain
import EventStore
import Foundation
import PQ

/// Loading what a batch needs into the working set.
extension PeopleTables {
    /// Loads into `state` what `needs` names and the cache lacks: identities, their contacts (with audiences and
    /// company links), contacts by id (following recorded merges) and companies by group id.
    func load(_ needs: PeopleNeeds, into state: inout PeopleState, on connection: PQConnection) async throws {
        if state.isComplete { return }
        let missingKeys = needs.identities.filter { state.identities[$0] == nil && !state.absentIdentities.contains($0) }
        var contactIDs = Set(needs.contactIDs.map { state.resolve($0) }.filter { state.contacts[$0] == nil })
        if !missingKeys.isEmpty {
            for found in try await lookUp(Array(missingKeys), in: IdentitiesTable.name, owner: "contact_id", on: connection) {
                state.identities[found.key] = IdentityRecord(
                    contactID: found.owner, firstPosition: found.position, firstSeenAt: found.seenAt)
                if state.contacts[state.resolve(found.owner)] == nil { contactIDs.insert(state.resolve(found.owner)) }
            }
            for key in missingKeys where state.identities[key] == nil { state.absentIdentities.insert(key) }
        }
        if !contactIDs.isEmpty { try await loadContacts(Array(contactIDs), into: &state, on: connection) }
        let missingCompanyKeys = needs.companyKeys.filter {
            state.companyIdentities[$0] == nil && !state.absentCompanyIdentities.contains($0)
        }
        if !missingCompanyKeys.isEmpty {
            var companyIDs: Set<String> = []
            for found in try await lookUp(Array(missingCompanyKeys), in: CompanyIdentitiesTable.name, owner: "company_id", on: connection) {
                state.companyIdentities[found.key] = CompanyIdentityRecord(
                    companyID: found.owner, firstPosition: found.position, firstSeenAt: found.seenAt)
                companyIDs.insert(found.owner)
            }
            for key in missingCompanyKeys where state.companyIdentities[key] == nil { state.absentCompanyIdentities.insert(key) }
            let unknown = companyIDs.map { state.resolveCompany($0) }.filter { state.companies[$0] == nil }
            if !unknown.isEmpty { try await loadCompanies(unknown, into: &state, on: connection) }
        }
    }

    private func loadCompanies(_ requested: [String], into state: inout PeopleState, on connection: PQConnection) async throws {
        // Companies merged away in earlier batches: follow company_merges to the survivor.
        try await followMerges(of: requested, in: CompanyMergesTable.name, subject: "company", on: connection) { from, into in
            state.companyRedirects[from] = into
        }
        let ids = Array(Set(requested.map { state.resolveCompany($0) }.filter { state.companies[$0] == nil }))
        guard !ids.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT company_id, group_id, domain, name, traits, hubspot_properties, hubspot_company_id, first_seen_at,
                   last_seen_at, created_position, updated_position, hubspot_acknowledged, hubspot_failure
            FROM \(unsafeRaw: companies.sqlName) WHERE company_id = ANY(\(ids)::text[])
            """, name: "people.load_companies")
        for row in rows {
            let (id, groupID, domain, name, traits, properties, hubSpotID, first, last, created, updated) = try row.decode(
                (String, String?, String?, String?, PQJSONB, PQJSONB, String?, Date, Date, Int64, Int64).self)
            state.companies[id] = CompanyRecord(
                id: id, groupID: groupID ?? "", domain: domain, name: name, traits: Self.object(traits),
                hubSpotProperties: Self.object(properties), hubSpotCompanyID: hubSpotID, firstSeenAt: first, lastSeenAt: last,
                createdPosition: created, updatedPosition: updated,
                hubSpotAcknowledged: try row.decode(PQJSONB?.self, at: 11).map(Self.object),
                hubSpotFailure: try row.decode(String?.self, at: 12))
        }
    }

    private func loadContacts(_ requested: [String], into state: inout PeopleState, on connection: PQConnection) async throws {
        // Contacts merged away in earlier batches: follow contact_merges to the survivor.
        try await followMerges(of: requested, in: ContactMergesTable.name, subject: "contact", on: connection) { from, into in
            state.redirects[from] = into
        }
        let ids = Array(Set(requested.map { state.resolve($0) }.filter { state.contacts[$0] == nil }))
        guard !ids.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT contact_id, user_id, email, traits, hubspot_values, hubspot_contact_id, onesignal_id, first_seen_at,
                   last_seen_at, created_transaction_id, created_position, updated_position, hubspot_acknowledged,
                   onesignal_acknowledged, hubspot_failure, onesignal_failures, onesignal_event_tags, onesignal_activity,
                   write_key_id
            FROM \(unsafeRaw: contacts.sqlName) WHERE contact_id = ANY(\(ids)::text[])
            """, name: "people.load_contacts")
        for row in rows {
            let (id, userID, email, traits, values, hubSpotID, oneSignalID, first, last, createdXID, createdPosition, updated) =
                try row.decode(
                    (String, String?, String?, PQJSONB, PQJSONB, String?, String?, Date, Date, UInt64, Int64, Int64).self)
            let hubSpotAcknowledged = try row.decode(PQJSONB?.self, at: 12).map(Self.object)
            let oneSignalAcknowledged = (try row.decode(PQJSONB?.self, at: 13).map(Self.object) ?? [:]).compactMapValues(\.objectValue)
            state.contacts[id] = ContactRecord(
                id: id, userID: userID, email: email, traits: Self.object(traits), hubSpotValues: Self.object(values),
                hubSpotContactID: hubSpotID, oneSignalID: oneSignalID, hubSpotAcknowledged: hubSpotAcknowledged,
                oneSignalAcknowledged: oneSignalAcknowledged, hubSpotFailure: try row.decode(String?.self, at: 14),
                oneSignalFailures: Self.object(try row.decode(PQJSONB.self, at: 15)).compactMapValues(\.stringValue),
                firstSeenAt: first, lastSeenAt: last,
                createdAt: LogCursor(transactionID: createdXID, position: createdPosition), updatedPosition: updated,
                audiences: [:], companies: [:], oneSignalEventTags: Self.object(try row.decode(PQJSONB.self, at: 16)),
                oneSignalActivity: Self.object(try row.decode(PQJSONB.self, at: 17)), writeKeyID: try row.decode(String?.self, at: 18))
        }
        let audienceRows = try await connection.query(
            """
            SELECT contact_id, audience, is_member, status, style, entered_at, exited_at, updated_at
            FROM \(unsafeRaw: audienceMemberships.sqlName) WHERE contact_id = ANY(\(ids)::text[])
            """, name: "people.load_audiences")
        for row in audienceRows {
            let (id, audience, isMember, status, style, entered, exited, updated) = try row.decode(
                (String, String, Bool, String?, String, Date?, Date?, Date).self)
            state.contacts[id]?.audiences[audience] = AudienceRecord(
                isMember: isMember, status: status, style: style, enteredAt: entered, exitedAt: exited, updatedAt: updated)
        }
        let linkRows = try await connection.query(
            """
            SELECT contact_id, company_id, first_seen_at, last_seen_at, hubspot_associated
            FROM \(unsafeRaw: contactCompanies.sqlName) WHERE contact_id = ANY(\(ids)::text[])
            """, name: "people.load_company_links")
        for row in linkRows {
            let (id, companyID, first, last, associated) = try row.decode((String, String, Date, Date, Bool).self)
            state.contacts[id]?.companies[companyID] = CompanyLink(firstSeenAt: first, lastSeenAt: last, hubSpotAssociated: associated)
        }
    }

    /// The rows of an identity table (`identities`, `company_identities`) for `keys`.
    private func lookUp(_ keys: [IdentityKey], in identityTable: String, owner: String, on connection: PQConnection) async throws
        -> [(key: IdentityKey, owner: String, position: Int64, seenAt: Date)]
    {
        let rows = try await connection.query(
            """
            SELECT i.kind, i.value, i.\(unsafeRaw: owner), i.first_position, i.first_seen_at
            FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.value))::text[]) AS wanted(kind, value)
            JOIN \(unsafeRaw: table(identityTable)) i ON i.kind = wanted.kind AND i.value = wanted.value
            """, name: "people.load_\(identityTable)")
        return try rows.map { row in
            let (kind, value, owner, position, seenAt) = try row.decode((String, String, String, Int64, Date).self)
            return (IdentityKey(kind: kind, value: value), owner, position, seenAt)
        }
    }

    /// Reports the recorded merges (`merged_<subject>_id` → `into_<subject>_id`) of `ids`, and of what they merged into,
    /// a few steps deep.
    private func followMerges(
        of ids: [String], in mergeTable: String, subject: String, on connection: PQConnection, _ record: (String, String) -> Void
    ) async throws {
        var pending = ids
        for _ in 0..<8 where !pending.isEmpty {
            let rows = try await connection.query(
                """
                SELECT merged_\(unsafeRaw: subject)_id, into_\(unsafeRaw: subject)_id FROM \(unsafeRaw: table(mergeTable))
                WHERE merged_\(unsafeRaw: subject)_id = ANY(\(pending)::text[])
                """, name: "people.load_\(mergeTable)")
            pending = []
            for row in rows {
                let (from, into) = try row.decode((String, String).self)
                record(from, into)
                pending.append(into)
            }
        }
    }
}
