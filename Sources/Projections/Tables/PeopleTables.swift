import Domain
import EventStore
import Foundation
import Ingestion
import Mapping
import PQ

/// Reads and writes the people projection's tables in one schema: the live one (`nil`, the `events` table's schema)
/// or a rebuild's shadow schema.
struct PeopleTables: Sendable {
    /// The tables this projection owns, in the order a rebuild creates and swaps them.
    static let names = [
        "identities", "contacts", "contact_merges", "companies", "contact_companies", "audience_memberships", "devices",
        "message_activity", "sync_status", "company_identities", "company_merges",
    ]

    let schema: String?

    func table(_ name: String) -> String {
        if let schema { return PQQuery.quoteIdentifier(schema) + "." + name }
        return name
    }

    // MARK: - Loading

    /// Loads into `state` what `needs` names and the cache lacks: identities, their contacts (with audiences and
    /// company links), contacts by id (following recorded merges) and companies by group id.
    func load(_ needs: PeopleNeeds, into state: inout PeopleState, on connection: PQConnection) async throws {
        if state.isComplete { return }
        let missingKeys = needs.identities.filter { state.identities[$0] == nil && !state.absentIdentities.contains($0) }
        var contactIDs = Set(needs.contactIDs.map { state.resolve($0) }.filter { state.contacts[$0] == nil })
        if !missingKeys.isEmpty {
            for found in try await lookUp(Array(missingKeys), in: "identities", owner: "contact_id", on: connection) {
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
            for found in try await lookUp(Array(missingCompanyKeys), in: "company_identities", owner: "company_id", on: connection) {
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
        try await followMerges(of: requested, in: "company_merges", subject: "company", on: connection) { from, into in
            state.companyRedirects[from] = into
        }
        let ids = Array(Set(requested.map { state.resolveCompany($0) }.filter { state.companies[$0] == nil }))
        guard !ids.isEmpty else { return }
        let rows = try await connection.query(
            """
            SELECT company_id, group_id, domain, name, traits, hubspot_properties, hubspot_company_id, first_seen_at,
                   last_seen_at, created_position, updated_position, hubspot_acknowledged, hubspot_failure
            FROM \(unsafeRaw: table("companies")) WHERE company_id = ANY(\(ids)::text[])
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
        try await followMerges(of: requested, in: "contact_merges", subject: "contact", on: connection) { from, into in
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
            FROM \(unsafeRaw: table("contacts")) WHERE contact_id = ANY(\(ids)::text[])
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
                oneSignalFailures: Self.object(try row.decode(PQJSONB.self, at: 15)).compactMapValues(\.stringValue), firstSeenAt: first, lastSeenAt: last,
                createdAt: LogCursor(transactionID: createdXID, position: createdPosition), updatedPosition: updated,
                audiences: [:], companies: [:], oneSignalEventTags: Self.object(try row.decode(PQJSONB.self, at: 16)),
                oneSignalActivity: Self.object(try row.decode(PQJSONB.self, at: 17)), writeKeyID: try row.decode(String?.self, at: 18))
        }
        let audienceRows = try await connection.query(
            """
            SELECT contact_id, audience, is_member, status, style, entered_at, exited_at, updated_at
            FROM \(unsafeRaw: table("audience_memberships")) WHERE contact_id = ANY(\(ids)::text[])
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
            FROM \(unsafeRaw: table("contact_companies")) WHERE contact_id = ANY(\(ids)::text[])
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

    static func object(_ jsonb: PQJSONB) -> [String: JSONValue] {
        (try? JSONValue.parse(jsonb.bytes))?.objectValue ?? [:]
    }

    static func jsonb(_ value: JSONValue) -> PQJSONB {
        PQJSONB(bytes: (try? value.serialized()) ?? Array("null".utf8))
    }

    // MARK: - Writing

    /// Writes the changes in `state` (merges first, then rows) and forgets them.
    func flush(_ state: inout PeopleState, mapping: Mapping, on connection: PQConnection) async throws {
        guard state.hasChanges else { return }
        state.tablesAreEmpty = false
        if !state.erasedContacts.isEmpty { try await deleteErased(Array(state.erasedContacts), on: connection) }
        if !state.merges.isEmpty { try await writeMerges(state, on: connection) }
        if !state.dirtyIdentities.isEmpty {
            let keys = Array(state.dirtyIdentities)
            let records = keys.map { state.identities[$0]! }
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("identities")) (kind, value, contact_id, first_position, first_seen_at)
                SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.value))::text[],
                                     \(records.map { state.resolve($0.contactID) })::text[], \(records.map(\.firstPosition))::bigint[],
                                     \(records.map(\.firstSeenAt))::timestamptz[])
                ON CONFLICT (kind, value) DO UPDATE SET contact_id = EXCLUDED.contact_id
                """, name: "people.write_identities")
        }
        let contacts = state.dirtyContacts.compactMap { state.contacts[$0] }
        if !contacts.isEmpty { try await writeContacts(contacts, mapping: mapping, on: connection) }
        // What the mapping derives (HubSpot properties, the domain) is worked out once per written company.
        if !state.companyMerges.isEmpty { try await writeCompanyMerges(state, on: connection) }
        if !state.dirtyCompanyIdentities.isEmpty {
            let keys = Array(state.dirtyCompanyIdentities)
            let records = keys.map { state.companyIdentities[$0]! }
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("company_identities")) (kind, value, company_id, first_position, first_seen_at)
                SELECT * FROM unnest(\(keys.map(\.kind))::text[], \(keys.map(\.value))::text[],
                                     \(records.map { state.resolveCompany($0.companyID) })::text[],
                                     \(records.map(\.firstPosition))::bigint[], \(records.map(\.firstSeenAt))::timestamptz[])
                ON CONFLICT (kind, value) DO UPDATE SET company_id = EXCLUDED.company_id
                """, name: "people.write_company_identities")
        }
        let companies = state.dirtyCompanies.compactMap { id -> CompanyRecord? in
            guard var company = state.companies[id] else { return nil }
            let derived = mapping.companies.hubSpotProperties(groupID: company.groupID, traits: company.traits)
            company.hubSpotProperties = derived.values.mapValues { $0.map(JSONValue.string) ?? .null }
            if let domain = derived.values["domain"] ?? nil { company.domain = domain }
            state.companies[id] = company
            return company
        }
        if !companies.isEmpty {
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("companies")) (company_id, group_id, domain, name, traits, hubspot_properties,
                    hubspot_company_id, first_seen_at, last_seen_at, created_position, updated_position, hubspot_acknowledged,
                    hubspot_failure, hubspot_pending)
                SELECT * FROM unnest(\(companies.map(\.id))::text[], \(companies.map(\.groupID))::text[],
                    \(PQNullableArray(companies.map(\.domain)))::text[], \(PQNullableArray(companies.map(\.name)))::text[],
                    \(companies.map { Self.jsonb(.object($0.traits)) })::jsonb[],
                    \(companies.map { Self.jsonb(.object($0.hubSpotProperties)) })::jsonb[],
                    \(PQNullableArray(companies.map(\.hubSpotCompanyID)))::text[], \(companies.map(\.firstSeenAt))::timestamptz[],
                    \(companies.map(\.lastSeenAt))::timestamptz[], \(companies.map(\.createdPosition))::bigint[],
                    \(companies.map(\.updatedPosition))::bigint[],
                    \(PQNullableArray(companies.map { $0.hubSpotAcknowledged.map { Self.jsonb(.object($0)) } }))::jsonb[],
                    \(PQNullableArray(companies.map(\.hubSpotFailure)))::text[], \(companies.map(\.isHubSpotPending))::boolean[])
                ON CONFLICT (company_id) DO UPDATE SET group_id = EXCLUDED.group_id, domain = EXCLUDED.domain,
                    name = EXCLUDED.name, traits = EXCLUDED.traits, hubspot_properties = EXCLUDED.hubspot_properties,
                    hubspot_company_id = EXCLUDED.hubspot_company_id, last_seen_at = EXCLUDED.last_seen_at,
                    updated_position = EXCLUDED.updated_position, hubspot_acknowledged = EXCLUDED.hubspot_acknowledged,
                    hubspot_failure = EXCLUDED.hubspot_failure, hubspot_pending = EXCLUDED.hubspot_pending
                """, name: "people.write_companies")
        }
        if !contacts.isEmpty { try await writeContactChildren(contacts, state: state, on: connection) }
        if !state.devices.isEmpty {
            let devices = Array(state.devices.values)
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("devices")) (app, device_key, contact_id, onesignal_id, external_id, subscription_id,
                    channel, last_event_at)
                SELECT * FROM unnest(\(devices.map(\.app))::text[], \(devices.map(\.deviceKey))::text[],
                    \(devices.map { state.resolve($0.contactID) })::text[], \(PQNullableArray(devices.map(\.oneSignalID)))::text[],
                    \(PQNullableArray(devices.map(\.externalID)))::text[], \(PQNullableArray(devices.map(\.subscriptionID)))::text[],
                    \(PQNullableArray(devices.map(\.channel)))::text[], \(devices.map(\.lastEventAt))::timestamptz[])
                ON CONFLICT (app, device_key) DO UPDATE SET contact_id = EXCLUDED.contact_id,
                    onesignal_id = COALESCE(EXCLUDED.onesignal_id, devices.onesignal_id),
                    external_id = COALESCE(EXCLUDED.external_id, devices.external_id),
                    subscription_id = COALESCE(EXCLUDED.subscription_id, devices.subscription_id),
                    channel = COALESCE(EXCLUDED.channel, devices.channel),
                    last_event_at = GREATEST(EXCLUDED.last_event_at, devices.last_event_at)
                """, name: "people.write_devices")
            let tagged = devices.filter { $0.tags != nil }
            if !tagged.isEmpty {
                try await connection.execute(
                    """
                    UPDATE \(unsafeRaw: table("devices")) d SET tags = t.tags
                    FROM unnest(\(tagged.map(\.app))::text[], \(tagged.map(\.deviceKey))::text[],
                                \(tagged.map { Self.jsonb(.object($0.tags ?? [:])) })::jsonb[]) AS t(app, device_key, tags)
                    WHERE d.app = t.app AND d.device_key = t.device_key
                    """, name: "people.write_device_tags")
            }
        }
        if !state.activities.isEmpty {
            let rows = state.activities
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("message_activity")) (position, contact_id, app, notification_id, activity, channel,
                    kind, occurred_at, details)
                SELECT * FROM unnest(\(rows.map(\.position))::bigint[],
                    \(PQNullableArray(rows.map { $0.contactID.map(state.resolve) }))::text[],
                    \(PQNullableArray(rows.map(\.app)))::text[], \(PQNullableArray(rows.map(\.notificationID)))::text[],
                    \(rows.map(\.activity))::text[], \(PQNullableArray(rows.map(\.channel)))::text[], \(rows.map(\.kind))::text[],
                    \(rows.map(\.occurredAt))::timestamptz[], \(rows.map { Self.jsonb($0.details) })::jsonb[])
                ON CONFLICT (position) DO NOTHING
                """, name: "people.write_activity")
        }
        state.clearChanges()
    }

    /// The first write of a rebuild: the cache holds every row and the tables are empty, so every row goes in with
    /// `COPY` (no conflicts to resolve, no indexes to probe first), one table per connection of `client` in parallel.
    /// No transaction spans the tables: they are a rebuild's private shadow tables, abandoned if anything fails.
    func copyAll(_ state: inout PeopleState, mapping: Mapping, client: PQClient) async throws {
        let snapshot = state
        let tables = self
        try await withThrowingTaskGroup(of: Void.self) { group in
            for table in Self.names {
                group.addTask {
                    let (columns, rows) = Self.rows(of: table, in: snapshot, mapping: mapping)
                    try await client.withConnection { connection in
                        try await tables.copy(table, columns, rows, on: connection)
                    }
                }
            }
            try await group.waitForAll()
        }
        state.clearChanges()
        state.tablesAreEmpty = false
    }

    /// The columns and text rows of `table` for `copyAll`.
    static func rows(of table: String, in state: PeopleState, mapping: Mapping) -> ([String], [[String?]]) {
        func time(_ date: Date) -> String { ISO8601Timestamp.format(date) }
        func json(_ value: JSONValue) -> String { String(decoding: (try? value.serialized()) ?? Array("null".utf8), as: UTF8.self) }
        switch table {
        case "identities":
            return (
                ["kind", "value", "contact_id", "first_position", "first_seen_at"],
                state.identities.map { key, record in
                    [key.kind, key.value, state.resolve(record.contactID), String(record.firstPosition), time(record.firstSeenAt)]
                }
            )
        case "contacts":
            return (
                [
                    "contact_id", "user_id", "email", "traits", "hubspot_properties", "hubspot_values", "hubspot_contact_id",
                    "onesignal_id", "first_seen_at", "last_seen_at", "created_transaction_id", "created_position", "updated_position",
                    "hubspot_acknowledged", "onesignal_acknowledged", "hubspot_failure", "onesignal_failures",
                    "onesignal_event_tags", "onesignal_activity", "write_key_id",
                ],
                state.contacts.values.map { contact in
                    [
                        contact.id, contact.userID, contact.email, json(.object(contact.traits)),
                        json(.object(Self.hubSpotProperties(of: contact, mapping: mapping))), json(.object(contact.hubSpotValues)),
                        contact.hubSpotContactID, contact.oneSignalID, time(contact.firstSeenAt), time(contact.lastSeenAt),
                        String(contact.createdAt.transactionID), String(contact.createdAt.position), String(contact.updatedPosition),
                        contact.hubSpotAcknowledged.map { json(.object($0)) }, Self.acknowledgedJSON(contact).map(json),
                        contact.hubSpotFailure, json(.object(contact.oneSignalFailures.mapValues(JSONValue.string))),
                        json(.object(contact.oneSignalEventTags)), json(.object(contact.oneSignalActivity)), contact.writeKeyID,
                    ]
                }
            )
        case "sync_status":
            return (
                ["contact_id", "destination", "app", "state", "reason", "desired", "acknowledged", "dropped", "updated_at"],
                state.contacts.values.flatMap { contact in
                    contact.syncStatus(hubSpotProperties: Self.hubSpotProperties(of: contact, mapping: mapping), mapping: mapping)
                        .map { row -> [String?] in
                            [
                                contact.id, row.destination, row.app, row.state, row.reason, json(.object(row.desired)),
                                row.acknowledged.map { json(.object($0)) }, json(.object(row.dropped.mapValues(JSONValue.string))),
                                time(contact.lastSeenAt),
                            ]
                        }
                }
            )
        case "audience_memberships":
            return (
                ["contact_id", "audience", "is_member", "status", "style", "entered_at", "exited_at", "updated_at"],
                state.contacts.values.flatMap { contact in
                    contact.audiences.map { audience, record -> [String?] in
                        [
                            contact.id, audience, record.isMember ? "t" : "f", record.status, record.style, record.enteredAt.map(time),
                            record.exitedAt.map(time), time(record.updatedAt),
                        ]
                    }
                }
            )
        case "contact_companies":
            return (
                ["contact_id", "company_id", "first_seen_at", "last_seen_at", "hubspot_associated"],
                state.contacts.values.flatMap { contact in
                    resolvedLinks(of: contact, in: state).map { companyID, link -> [String?] in
                        [contact.id, companyID, time(link.firstSeenAt), time(link.lastSeenAt), link.hubSpotAssociated ? "t" : "f"]
                    }
                }
            )
        case "company_identities":
            return (
                ["kind", "value", "company_id", "first_position", "first_seen_at"],
                state.companyIdentities.map { key, record in
                    [key.kind, key.value, state.resolveCompany(record.companyID), String(record.firstPosition), time(record.firstSeenAt)]
                }
            )
        case "company_merges":
            return (
                ["merged_company_id", "into_company_id", "reason", "position", "merged_at"],
                state.companyMerges.map { [$0.from, $0.into, $0.reason, String($0.position), time($0.at)] }
            )
        case "contact_merges":
            return (
                ["merged_contact_id", "into_contact_id", "reason", "position", "merged_at"],
                state.merges.map { [$0.from, $0.into, $0.reason, String($0.position), time($0.at)] }
            )
        case "companies":
            return (
                [
                    "company_id", "group_id", "domain", "name", "traits", "hubspot_properties", "hubspot_company_id", "first_seen_at",
                    "last_seen_at", "created_position", "updated_position", "hubspot_acknowledged", "hubspot_failure",
                    "hubspot_pending",
                ],
                state.companies.values.map { stored in
                    var company = stored
                    let derived = mapping.companies.hubSpotProperties(groupID: company.groupID, traits: company.traits)
                    let domain = (derived.values["domain"] ?? nil) ?? company.domain
                    company.hubSpotProperties = derived.values.mapValues { $0.map(JSONValue.string) ?? .null }
                    return [
                        company.id, company.groupID, domain, company.name, json(.object(company.traits)),
                        json(.object(company.hubSpotProperties)), company.hubSpotCompanyID,
                        time(company.firstSeenAt), time(company.lastSeenAt), String(company.createdPosition),
                        String(company.updatedPosition), company.hubSpotAcknowledged.map { json(.object($0)) }, company.hubSpotFailure,
                        company.isHubSpotPending ? "t" : "f",
                    ]
                }
            )
        case "devices":
            return (
                ["app", "device_key", "contact_id", "onesignal_id", "external_id", "subscription_id", "channel", "last_event_at", "tags"],
                state.devices.values.map {
                    [$0.app, $0.deviceKey, state.resolve($0.contactID), $0.oneSignalID, $0.externalID, $0.subscriptionID, $0.channel,
                     time($0.lastEventAt), json(.object($0.tags ?? [:]))]
                }
            )
        case "message_activity":
            return (
                ["position", "contact_id", "app", "notification_id", "activity", "channel", "kind", "occurred_at", "details"],
                state.activities.map {
                    [String($0.position), $0.contactID.map(state.resolve), $0.app, $0.notificationID, $0.activity, $0.channel, $0.kind,
                     time($0.occurredAt), json($0.details)]
                }
            )
        default:
            preconditionFailure("no rows for table \(table)")
        }
    }

    private func copy(_ name: String, _ columns: [String], _ rows: [[String?]], on connection: PQConnection) async throws {
        guard !rows.isEmpty else { return }
        let statement = "COPY \(table(name)) (\(columns.joined(separator: ", "))) FROM STDIN"
        try await connection.copyIn(PQQuery(unsafeSQL: statement, name: "people.copy_\(name)")) { writer in
            for row in rows {
                for field in row { writer.append(field) }
                try writer.endRow()
            }
        }
    }

    /// A contact's company links with merged companies followed, one per company (the widest first/last seen).
    static func resolvedLinks(of contact: ContactRecord, in state: PeopleState) -> [String: CompanyLink] {
        var links: [String: CompanyLink] = [:]
        for (companyID, link) in contact.companies {
            let id = state.resolveCompany(companyID)
            // An association with a company merged away is not one with the survivor: HubSpot needs a new one.
            let associated = companyID == id && link.hubSpotAssociated
            if let existing = links[id] {
                links[id] = CompanyLink(
                    firstSeenAt: min(existing.firstSeenAt, link.firstSeenAt), lastSeenAt: max(existing.lastSeenAt, link.lastSeenAt),
                    hubSpotAssociated: existing.hubSpotAssociated || associated)
            } else {
                links[id] = CompanyLink(firstSeenAt: link.firstSeenAt, lastSeenAt: link.lastSeenAt, hubSpotAssociated: associated)
            }
        }
        return links
    }

    private func writeCompanyMerges(_ state: PeopleState, on connection: PQConnection) async throws {
        let merges = state.companyMerges
        let froms = merges.map(\.from)
        let finals = merges.map { state.resolveCompany($0.into) }
        try await connection.execute(
            """
            UPDATE \(unsafeRaw: table("company_identities")) t SET company_id = m.into_id
            FROM unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) WHERE t.company_id = m.from_id
            """, name: "people.merge_company_identities")
        // Links move to the surviving company; a contact linked to both keeps one link with the widest dates.
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: table("contact_companies")) (contact_id, company_id, first_seen_at, last_seen_at)
            SELECT cc.contact_id, m.into_id, min(cc.first_seen_at), max(cc.last_seen_at)
            FROM \(unsafeRaw: table("contact_companies")) cc
            JOIN unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) ON cc.company_id = m.from_id
            GROUP BY cc.contact_id, m.into_id
            ON CONFLICT (contact_id, company_id) DO UPDATE
            SET first_seen_at = LEAST(contact_companies.first_seen_at, EXCLUDED.first_seen_at),
                last_seen_at = GREATEST(contact_companies.last_seen_at, EXCLUDED.last_seen_at)
            """, name: "people.merge_company_links")
        try await connection.execute(
            "DELETE FROM \(unsafeRaw: table("contact_companies")) WHERE company_id = ANY(\(froms)::text[])",
            name: "people.merge_delete_company_links")
        try await connection.execute(
            "DELETE FROM \(unsafeRaw: table("companies")) WHERE company_id = ANY(\(froms)::text[])",
            name: "people.merge_delete_companies")
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: table("company_merges")) (merged_company_id, into_company_id, reason, position, merged_at)
            SELECT * FROM unnest(\(froms)::text[], \(merges.map(\.into))::text[], \(merges.map(\.reason))::text[],
                                 \(merges.map(\.position))::bigint[], \(merges.map(\.at))::timestamptz[])
            ON CONFLICT (merged_company_id) DO NOTHING
            """, name: "people.write_company_merges")
    }

    private func writeMerges(_ state: PeopleState, on connection: PQConnection) async throws {
        let merges = state.merges
        let froms = merges.map(\.from)
        let finals = merges.map { state.resolve($0.into) }
        for name in ["identities", "devices", "message_activity"] {
            try await connection.execute(
                """
                UPDATE \(unsafeRaw: table(name)) t SET contact_id = m.into_id
                FROM unnest(\(froms)::text[], \(finals)::text[]) AS m(from_id, into_id) WHERE t.contact_id = m.from_id
                """, name: "people.merge_\(name)")
        }
        for name in ["contacts", "audience_memberships", "contact_companies", "sync_status"] {
            try await connection.execute(
                "DELETE FROM \(unsafeRaw: table(name)) WHERE contact_id = ANY(\(froms)::text[])", name: "people.merge_delete_\(name)")
        }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: table("contact_merges")) (merged_contact_id, into_contact_id, reason, position, merged_at)
            SELECT * FROM unnest(\(froms)::text[], \(merges.map(\.into))::text[], \(merges.map(\.reason))::text[],
                                 \(merges.map(\.position))::bigint[], \(merges.map(\.at))::timestamptz[])
            ON CONFLICT (merged_contact_id) DO NOTHING
            """, name: "people.write_merges")
    }

    /// The HubSpot contact properties the mapping derives from the contact's traits and audience memberships (one
    /// property per audience; null clears a property).
    /// `contacts.onesignal_acknowledged`: app name → tags; `nil` (SQL NULL) when no app acknowledged anything.
    static func acknowledgedJSON(_ contact: ContactRecord) -> JSONValue? {
        contact.oneSignalAcknowledged.isEmpty ? nil : .object(contact.oneSignalAcknowledged.mapValues(JSONValue.object))
    }

    static func hubSpotProperties(of contact: ContactRecord, mapping: Mapping) -> [String: JSONValue] {
        var properties = mapping.contacts.hubSpotProperties(from: contact.traits).values.mapValues { $0.map(JSONValue.string) ?? .null }
        for (audience, record) in contact.audiences {
            let change = AudienceChange(audience: audience, isMember: record.isMember, status: record.status)
            properties[mapping.audiences.hubSpotProperty(forAudience: audience)] = .string(mapping.audiences.hubSpotValue(for: change))
        }
        if mapping.timeline.properties {
            for (name, value) in contact.oneSignalActivity where properties[name] == nil { properties[name] = value }
        }
        return properties
    }

    private func writeContacts(_ contacts: [ContactRecord], mapping: Mapping, on connection: PQConnection) async throws {
        let derived = contacts.map { Self.hubSpotProperties(of: $0, mapping: mapping) }
        let properties = derived.map { Self.jsonb(.object($0)) }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: table("contacts")) (contact_id, user_id, email, traits, hubspot_properties, hubspot_values,
                hubspot_contact_id, onesignal_id, first_seen_at, last_seen_at, created_transaction_id, created_position,
                updated_position, hubspot_acknowledged, onesignal_acknowledged, hubspot_failure, onesignal_failures,
                onesignal_event_tags, onesignal_activity, write_key_id)
            SELECT * FROM unnest(\(contacts.map(\.id))::text[], \(PQNullableArray(contacts.map(\.userID)))::text[],
                \(PQNullableArray(contacts.map(\.email)))::text[], \(contacts.map { Self.jsonb(.object($0.traits)) })::jsonb[],
                \(properties)::jsonb[], \(contacts.map { Self.jsonb(.object($0.hubSpotValues)) })::jsonb[],
                \(PQNullableArray(contacts.map(\.hubSpotContactID)))::text[], \(PQNullableArray(contacts.map(\.oneSignalID)))::text[],
                \(contacts.map(\.firstSeenAt))::timestamptz[], \(contacts.map(\.lastSeenAt))::timestamptz[],
                \(contacts.map { String($0.createdAt.transactionID) })::xid8[], \(contacts.map(\.createdAt.position))::bigint[],
                \(contacts.map(\.updatedPosition))::bigint[],
                \(PQNullableArray(contacts.map { $0.hubSpotAcknowledged.map { Self.jsonb(.object($0)) } }))::jsonb[],
                \(PQNullableArray(contacts.map { Self.acknowledgedJSON($0).map(Self.jsonb) }))::jsonb[],
                \(PQNullableArray(contacts.map(\.hubSpotFailure)))::text[],
                \(contacts.map { Self.jsonb(.object($0.oneSignalFailures.mapValues(JSONValue.string))) })::jsonb[],
                \(contacts.map { Self.jsonb(.object($0.oneSignalEventTags)) })::jsonb[],
                \(contacts.map { Self.jsonb(.object($0.oneSignalActivity)) })::jsonb[],
                \(PQNullableArray(contacts.map(\.writeKeyID)))::text[])
            ON CONFLICT (contact_id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email, traits = EXCLUDED.traits,
                hubspot_properties = EXCLUDED.hubspot_properties, hubspot_values = EXCLUDED.hubspot_values,
                hubspot_contact_id = EXCLUDED.hubspot_contact_id, onesignal_id = EXCLUDED.onesignal_id,
                first_seen_at = EXCLUDED.first_seen_at, last_seen_at = EXCLUDED.last_seen_at,
                updated_position = EXCLUDED.updated_position, hubspot_acknowledged = EXCLUDED.hubspot_acknowledged,
                onesignal_acknowledged = EXCLUDED.onesignal_acknowledged, hubspot_failure = EXCLUDED.hubspot_failure,
                onesignal_failures = EXCLUDED.onesignal_failures, onesignal_event_tags = EXCLUDED.onesignal_event_tags,
                onesignal_activity = EXCLUDED.onesignal_activity, write_key_id = EXCLUDED.write_key_id
            """, name: "people.write_contacts")
        var ids: [String] = []
        var destinations: [String] = []
        var apps: [String] = []
        var states: [String] = []
        var reasons: [String?] = []
        var desired: [PQJSONB] = []
        var acknowledged: [PQJSONB?] = []
        var dropped: [PQJSONB] = []
        var updatedAt: [Date] = []
        for (contact, properties) in zip(contacts, derived) {
            for row in contact.syncStatus(hubSpotProperties: properties, mapping: mapping) {
                ids.append(contact.id)
                destinations.append(row.destination)
                apps.append(row.app)
                states.append(row.state)
                reasons.append(row.reason)
                desired.append(Self.jsonb(.object(row.desired)))
                acknowledged.append(row.acknowledged.map { Self.jsonb(.object($0)) })
                dropped.append(Self.jsonb(.object(row.dropped.mapValues(JSONValue.string))))
                updatedAt.append(contact.lastSeenAt)
            }
        }
        // A contact whose traits now route it to other OneSignal apps loses the rows of the apps it left (with one app
        // and no routing rule, every contact always has the same rows).
        if mapping.oneSignalApps.count > 1 || mapping.oneSignal.apps != .all {
            let keys = zip(zip(ids, destinations), apps).map { "\($0.0)\u{1F}\($0.1)\u{1F}\($1)" }
            try await connection.execute(
                """
                DELETE FROM \(unsafeRaw: table("sync_status"))
                WHERE contact_id = ANY(\(contacts.map(\.id))::text[])
                  AND NOT (contact_id || chr(31) || destination || chr(31) || app) = ANY(\(keys)::text[])
                """, name: "people.prune_sync_status")
        }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: table("sync_status")) (contact_id, destination, app, state, reason, desired, acknowledged,
                dropped, updated_at)
            SELECT * FROM unnest(\(ids)::text[], \(destinations)::text[], \(apps)::text[], \(states)::text[],
                                 \(PQNullableArray(reasons))::text[], \(desired)::jsonb[], \(PQNullableArray(acknowledged))::jsonb[],
                                 \(dropped)::jsonb[], \(updatedAt)::timestamptz[])
            ON CONFLICT (contact_id, destination, app) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
                desired = EXCLUDED.desired, acknowledged = EXCLUDED.acknowledged, dropped = EXCLUDED.dropped,
                updated_at = EXCLUDED.updated_at
            """, name: "people.write_sync_status")
    }

    /// Replaces the audience memberships and company links of the changed contacts.
    private func writeContactChildren(_ contacts: [ContactRecord], state: PeopleState, on connection: PQConnection) async throws {
        let ids = contacts.map(\.id)
        var audienceContacts: [String] = []
        var audiences: [String] = []
        var records: [AudienceRecord] = []
        var linkContacts: [String] = []
        var linkCompanies: [String] = []
        var links: [CompanyLink] = []
        for contact in contacts {
            for (audience, record) in contact.audiences {
                audienceContacts.append(contact.id)
                audiences.append(audience)
                records.append(record)
            }
            for (companyID, link) in Self.resolvedLinks(of: contact, in: state) {
                linkContacts.append(contact.id)
                linkCompanies.append(companyID)
                links.append(link)
            }
        }
        if !state.isComplete || !audiences.isEmpty {
            if !state.isComplete {
                try await connection.execute(
                    "DELETE FROM \(unsafeRaw: table("audience_memberships")) WHERE contact_id = ANY(\(ids)::text[])",
                    name: "people.clear_audiences")
            }
            if !audiences.isEmpty {
                try await connection.execute(
                    """
                    INSERT INTO \(unsafeRaw: table("audience_memberships")) (contact_id, audience, is_member, status, style, entered_at,
                        exited_at, updated_at)
                    SELECT * FROM unnest(\(audienceContacts)::text[], \(audiences)::text[], \(records.map(\.isMember))::boolean[],
                        \(PQNullableArray(records.map(\.status)))::text[], \(records.map(\.style))::text[],
                        \(PQNullableArray(records.map(\.enteredAt)))::timestamptz[],
                        \(PQNullableArray(records.map(\.exitedAt)))::timestamptz[], \(records.map(\.updatedAt))::timestamptz[])
                    ON CONFLICT (contact_id, audience) DO UPDATE SET is_member = EXCLUDED.is_member, status = EXCLUDED.status,
                        style = EXCLUDED.style, entered_at = EXCLUDED.entered_at, exited_at = EXCLUDED.exited_at,
                        updated_at = EXCLUDED.updated_at
                    """, name: "people.write_audiences")
            }
        }
        if !links.isEmpty {
            try await connection.execute(
                """
                INSERT INTO \(unsafeRaw: table("contact_companies")) (contact_id, company_id, first_seen_at, last_seen_at,
                    hubspot_associated)
                SELECT * FROM unnest(\(linkContacts)::text[], \(linkCompanies)::text[], \(links.map(\.firstSeenAt))::timestamptz[],
                                     \(links.map(\.lastSeenAt))::timestamptz[], \(links.map(\.hubSpotAssociated))::boolean[])
                ON CONFLICT (contact_id, company_id) DO UPDATE SET first_seen_at = EXCLUDED.first_seen_at,
                    last_seen_at = EXCLUDED.last_seen_at, hubspot_associated = EXCLUDED.hubspot_associated
                """, name: "people.write_company_links")
        }
    }
}

extension PeopleTables {
    /// Deletes every row of erased contacts (`hubsignal erase`) from the people tables.
    func deleteErased(_ ids: [String], on connection: PQConnection) async throws {
        for name in ["contacts", "audience_memberships", "contact_companies", "devices", "message_activity", "sync_status", "identities"] {
            try await connection.execute(
                "DELETE FROM \(unsafeRaw: table(name)) WHERE contact_id = ANY(\(ids)::text[])", name: "people.erase_\(name)")
        }
        try await connection.execute(
            """
            DELETE FROM \(unsafeRaw: table("contact_merges"))
            WHERE merged_contact_id = ANY(\(ids)::text[]) OR into_contact_id = ANY(\(ids)::text[])
            """, name: "people.erase_merges")
    }
}
