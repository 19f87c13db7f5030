import HubSpot
import Logging

/// The HubSpot properties of one object type that exist in the account, loaded once and refreshed when HubSpot says a
/// property does not exist; and the creation of the ones the mapping asks for.
public actor HubSpotPropertyCatalog {
    private let client: HubSpotClient
    private let objectType: String
    private let groupName: String
    private var known: Set<String>?
    private let logger: Logger

    /// A catalog of `objectType` (`contacts`, `companies`); created properties go into `groupName` (HubSpot's default
    /// contact group `contactinformation`, or `companyinformation`).
    public init(client: HubSpotClient, objectType: String, groupName: String, logger: Logger) {
        self.client = client
        self.objectType = objectType
        self.groupName = groupName
        self.logger = logger
    }

    /// The names among `names` that HubSpot does not have (loading the list on first use).
    public func missing(in names: some Sequence<String>) async throws -> Set<String> {
        let known = try await load()
        return Set(names.filter { !known.contains($0) })
    }

    /// Forgets the list: the next `missing(in:)` reads it again (HubSpot refused a property we thought existed).
    public func invalidate() {
        known = nil
    }

    /// Creates a property of HubSpot type `type` (`string`, `number`, `bool`, `date`, `datetime`); `unique` properties
    /// (`hasUniqueValue`, strings only) can key upserts.
    public func create(_ name: String, type: String, unique: Bool = false) async throws {
        try await client.create(
            HubSpotProperty.created(name: name, type: type, groupName: groupName, hasUniqueValue: unique ? true : nil), of: objectType)
        known?.insert(name)
        logger.notice("created a HubSpot property", metadata: ["object": "\(objectType)", "property": "\(name)", "type": "\(type)"])
    }

    private func load() async throws -> Set<String> {
        if let known { return known }
        let names = Set(try await client.properties(of: objectType).map(\.name))
        known = names
        return names
    }
}
