import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import Logging

/// The HubSpot properties of one object type that exist in the account, loaded once and refreshed when HubSpot says a
/// property does not exist; the creation of the ones the mapping asks for; and the check of a value against the
/// property's definition (type, options) before it is sent.
///
/// Each list read from HubSpot is recorded as `hubsignal.hubspot.properties_read` before the sync relies on it (once
/// per distinct list: the idempotency key is a digest of its content).
public actor HubSpotPropertyCatalog {
    public typealias Definition = HubSpotPropertiesRead.Definition

    private let client: HubSpotClient
    private let objectType: String
    private let groupName: String
    private let store: EventStore?
    private let metadata: [String: JSONValue]
    private var known: [String: Definition]?
    private let logger: Logger

    /// A catalog of `objectType` (`contacts`, `companies`); created properties go into `groupName` (HubSpot's default
    /// contact group `contactinformation`, or `companyinformation`). With a `store`, each list read is recorded there
    /// (with `metadata`) before it is used.
    public init(
        client: HubSpotClient, objectType: String, groupName: String, store: EventStore? = nil,
        metadata: [String: JSONValue] = [:], logger: Logger
    ) {
        self.client = client
        self.objectType = objectType
        self.groupName = groupName
        self.store = store
        self.metadata = metadata
        self.logger = logger
    }

    /// The names among `names` that HubSpot does not have (loading the list on first use).
    public func missing(in names: some Sequence<String>) async throws -> Set<String> {
        let known = try await load()
        return Set(names.filter { known[$0] == nil })
    }

    /// The definition of `name`, or `nil` when the account has no such property (loading the list on first use).
    public func definition(of name: String) async throws -> Definition? {
        try await load()[name]
    }

    /// Forgets the list: the next `missing(in:)` reads it again (HubSpot refused a property we thought existed).
    public func invalidate() {
        known = nil
    }

    /// Creates a property of HubSpot type `type` (`string`, `number`, `bool`, `date`, `datetime`); `unique` properties
    /// (`hasUniqueValue`, strings only) can key upserts.
    public func create(_ name: String, type: String, unique: Bool = false) async throws {
        let property = HubSpotProperty.created(name: name, type: type, groupName: groupName, hasUniqueValue: unique ? true : nil)
        try await client.create(property, of: objectType)
        known?[name] = Self.definition(property)
        logger.notice("created a HubSpot property", metadata: ["object": "\(objectType)", "property": "\(name)", "type": "\(type)"])
    }

    private func load() async throws -> [String: Definition] {
        if let known { return known }
        var definitions: [String: Definition] = [:]
        for property in try await client.properties(of: objectType) { definitions[property.name] = Self.definition(property) }
        if let store {
            let payload = HubSpotPropertiesRead(objectType: objectType, properties: definitions)
            _ = try await store.append([
                DeliveryLedger.resultEvent(
                    payload, stream: "hubspot:properties:\(objectType)",
                    idempotencyKey: "\(HubSpotPropertiesRead.eventType):\(objectType):\(Self.digest(definitions))", metadata: metadata)
            ])
        }
        known = definitions
        return definitions
    }

    static func definition(_ property: HubSpotProperty) -> Definition {
        let options = property.type == "enumeration"
            ? (property.options ?? []).sorted { ($0.displayOrder ?? 0) < ($1.displayOrder ?? 0) }.map(\.value) : nil
        return Definition(type: property.type, fieldType: property.fieldType, options: options, unique: property.hasUniqueValue ?? false)
    }

    /// FNV-1a over the list in name order: the same list always gives the same key.
    private static func digest(_ definitions: [String: Definition]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for name in definitions.keys.sorted() {
            let definition = definitions[name]!
            let line = "\(name)|\(definition.type)|\(definition.fieldType)|\((definition.options ?? []).joined(separator: ","))|\(definition.unique)\n"
            for byte in line.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return String(hash, radix: 16)
    }

    /// Why HubSpot would refuse `value` for a property defined as `definition`, or `nil` when it can take it. `""`
    /// (clearing) always passes. Mirrors HubSpot's checks (docs/hubspot-contract.md; hubspot.md §1.4): numbers,
    /// `true`/`false` for `bool`, an allowed option for `enumeration` (several, `;`-separated, for a `checkbox`),
    /// `YYYY-MM-DD` or midnight UTC in milliseconds for `date`, ISO 8601 or milliseconds for `datetime`.
    public static func problem(with value: String, for definition: Definition) -> String? {
        guard !value.isEmpty else { return nil }
        switch definition.type {
        case "number":
            guard let number = Double(value), number.isFinite, !value.hasPrefix("+"),
                value.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" || $0 == "E" })
            else { return "'\(clip(value))' is not a number, and the HubSpot property is of type number" }
        case "bool":
            guard value == "true" || value == "false" else {
                return "'\(clip(value))' is not true or false, and the HubSpot property is of type bool"
            }
        case "enumeration":
            let allowed = Set(definition.options ?? [])
            let chosen = definition.fieldType == "checkbox" ? value.split(separator: ";").map(String.init) : [value]
            if let unknown = chosen.first(where: { !allowed.contains($0) }) {
                return "'\(clip(unknown))' is not one of the HubSpot property's options (\((definition.options ?? []).joined(separator: ", ")))"
            }
        case "date":
            if isDay(value) { return nil }
            guard let ms = Int64(value), ms % 86_400_000 == 0 else {
                return "'\(clip(value))' is not a date (YYYY-MM-DD, or midnight UTC in milliseconds)"
            }
        case "datetime":
            guard Int64(value) != nil || ISO8601Timestamp.parse(value) != nil else {
                return "'\(clip(value))' is not a date-time (ISO 8601, or milliseconds since 1970)"
            }
        default:
            return nil
        }
        return nil
    }

    private static func isDay(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let month = Int(parts[1]), let day = Int(parts[2]), Int(parts[0]) != nil
        else { return false }
        return (1...12).contains(month) && (1...31).contains(day)
    }

    private static func clip(_ text: String) -> String {
        text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}
