import Domain
import Foundation
import Mapping
import PQ

/// The people projection's tables in one schema: the live one (`nil`, the `events` table's schema) or a rebuild's
/// shadow schema. Loading, flushing and copying are in `PeopleTables+Load`, `+Flush` and `+Copy`; the rows of each
/// table are written by its own `PeopleTable` type.
struct PeopleTables: Sendable {
    /// Every table the projection owns, in the order a rebuild creates and swaps them.
    static let all: [any PeopleTable.Type] = [
        IdentitiesTable.self, ContactsTable.self, ContactMergesTable.self, CompaniesTable.self, ContactCompaniesTable.self,
        AudienceMembershipsTable.self, DevicesTable.self, MessageActivityTable.self, SyncStatusTable.self,
        CompanyIdentitiesTable.self, CompanyMergesTable.self,
    ]

    /// The names of `all`, in the same order.
    static let names = all.map { $0.name }

    let schema: String?

    /// `name` qualified with the schema, as SQL text.
    func table(_ name: String) -> String {
        if let schema { return PQQuery.quoteIdentifier(schema) + "." + name }
        return name
    }

    /// The writer of `Table` in this schema.
    func writer<Table: PeopleTable>(_: Table.Type) -> Table { Table(sqlName: table(Table.name)) }

    var identities: IdentitiesTable { writer(IdentitiesTable.self) }
    var contacts: ContactsTable { writer(ContactsTable.self) }
    var contactMerges: ContactMergesTable { writer(ContactMergesTable.self) }
    var companies: CompaniesTable { writer(CompaniesTable.self) }
    var contactCompanies: ContactCompaniesTable { writer(ContactCompaniesTable.self) }
    var audienceMemberships: AudienceMembershipsTable { writer(AudienceMembershipsTable.self) }
    var devices: DevicesTable { writer(DevicesTable.self) }
    var messageActivity: MessageActivityTable { writer(MessageActivityTable.self) }
    var syncStatus: SyncStatusTable { writer(SyncStatusTable.self) }
    var companyIdentities: CompanyIdentitiesTable { writer(CompanyIdentitiesTable.self) }
    var companyMerges: CompanyMergesTable { writer(CompanyMergesTable.self) }

    /// The HubSpot contact properties the mapping derives from the contact's traits, audience memberships (one
    /// property per audience) and OneSignal activity; `null` clears a property. `contacts.hubspot_properties`.
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

    /// A `jsonb` column's object (`[:]` when it holds anything else).
    static func object(_ jsonb: PQJSONB) -> [String: JSONValue] {
        (try? JSONValue.parse(jsonb.bytes))?.objectValue ?? [:]
    }

    /// `value` as a `jsonb` parameter.
    static func jsonb(_ value: JSONValue) -> PQJSONB {
        PQJSONB(bytes: (try? value.serialized()) ?? Array("null".utf8))
    }
}

/// One table of the people projection: its name and columns, and how a rebuild's `COPY` writes the working set's rows
/// into it. Each type also has the upsert the live flush uses (`PeopleTables.flush`).
protocol PeopleTable: Sendable {
    /// The table's name, the same in the live schema and in a rebuild's shadow schema.
    static var name: String { get }
    /// The columns `copyRows` writes, in order.
    static var columns: [String] { get }
    /// The table's name qualified with its schema, as SQL text.
    var sqlName: String { get }
    init(sqlName: String)
    /// Writes every row the working set holds (a rebuild's first write, into the empty table), fields in `columns` order.
    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws
}
