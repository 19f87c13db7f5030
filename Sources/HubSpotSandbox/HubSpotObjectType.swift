/// An object type the sandbox stores: contacts, companies, notes, or a custom object defined by a test.
struct HubSpotObjectType: Sendable, Hashable {
    /// Plural name used in paths, e.g. `contacts`.
    let name: String
    /// Singular name used in associations v4 paths and association labels, e.g. `contact`.
    let singular: String
    /// `0-1`, `0-2`, `0-46`, or `2-…` for custom objects.
    let objectTypeID: String
    /// `p{portalID}_{name}` for custom objects.
    let fullyQualifiedName: String?
    /// Upper-case name used in messages (`CONTACT`, `COMPANY`).
    let messageName: String
    /// The read-only creation timestamp property.
    let createdateProperty: String
    /// The read-only modification timestamp property.
    let lastModifiedProperty: String
    /// Properties returned by a read that names none.
    let defaultReadProperties: [String]?
    /// Properties the free-text `query` of search looks at.
    let queryProperties: [String]

    static let contacts = HubSpotObjectType(
        name: "contacts", singular: "contact", objectTypeID: "0-1", fullyQualifiedName: nil, messageName: "CONTACT",
        createdateProperty: "createdate", lastModifiedProperty: "lastmodifieddate",
        defaultReadProperties: ["createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"],
        queryProperties: ["email", "firstname", "lastname", "phone", "company"])

    static let companies = HubSpotObjectType(
        name: "companies", singular: "company", objectTypeID: "0-2", fullyQualifiedName: nil, messageName: "COMPANY",
        createdateProperty: "createdate", lastModifiedProperty: "hs_lastmodifieddate",
        defaultReadProperties: ["createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"],
        queryProperties: ["name", "domain", "website", "phone"])

    static let notes = HubSpotObjectType(
        name: "notes", singular: "note", objectTypeID: "0-46", fullyQualifiedName: nil, messageName: "NOTE",
        createdateProperty: "hs_createdate", lastModifiedProperty: "hs_lastmodifieddate",
        defaultReadProperties: ["hs_createdate", "hs_lastmodifieddate", "hs_object_id"], queryProperties: ["hs_note_body"])

    /// A custom object type.
    static func custom(name: String, fullyQualifiedName: String, objectTypeID: String, queryProperties: [String])
        -> HubSpotObjectType
    {
        HubSpotObjectType(
            name: name, singular: name, objectTypeID: objectTypeID, fullyQualifiedName: fullyQualifiedName,
            messageName: name.uppercased(), createdateProperty: "hs_createdate",
            lastModifiedProperty: "hs_lastmodifieddate", defaultReadProperties: nil, queryProperties: queryProperties)
    }

    /// Every name a path may use for this type (lower-cased).
    var aliases: Set<String> {
        var names: Set<String> = [name.lowercased(), singular.lowercased(), objectTypeID.lowercased()]
        if let fullyQualifiedName { names.insert(fullyQualifiedName.lowercased()) }
        return names
    }

    /// The read-only system properties every object of this type has.
    var systemProperties: [String] {
        ["hs_object_id", createdateProperty, lastModifiedProperty]
    }
}
