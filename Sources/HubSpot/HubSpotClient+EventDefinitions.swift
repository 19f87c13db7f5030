import Foundation

/// A custom behavioral event definition as HubSpot answers it (`ExternalBehavioralEventTypeDefinition`, EVDEF-v3).
public struct HubSpotEventDefinition: Sendable, Hashable, Decodable {
    /// One of the definition's properties (`Property`): its name and HubSpot type.
    public struct Property: Sendable, Hashable, Decodable {
        public var name: String
        /// `string`, `number`, `datetime`, `enumeration`, or whatever HubSpot names its default properties' types.
        public var type: String
        /// Whether HubSpot defines it (`hs_` defaults); custom properties are `false` or absent.
        public var hubspotDefined: Bool?

        public init(name: String, type: String, hubspotDefined: Bool? = nil) {
            self.name = name
            self.type = type
            self.hubspotDefined = hubspotDefined
        }
    }

    /// The internal name, e.g. `order_completed`.
    public var name: String
    /// The name occurrences use, `pe<portal>_<name>`.
    public var fullyQualifiedName: String
    /// HubSpot's id (a string in the spec; a number decodes too).
    public var id: HubSpotObjectID?
    /// The properties, with `includeProperties=true` (absent otherwise).
    public var properties: [Property]?

    public init(name: String, fullyQualifiedName: String, id: HubSpotObjectID? = nil, properties: [Property]? = nil) {
        self.name = name
        self.fullyQualifiedName = fullyQualifiedName
        self.id = id
        self.properties = properties
    }

    /// The custom properties (HubSpot's own defaults left out), name → type.
    public var customProperties: [String: String] {
        var result: [String: String] = [:]
        for property in properties ?? [] where property.hubspotDefined != true && !property.name.hasPrefix("hs_") {
            result[property.name] = property.type
        }
        return result
    }
}

/// A property to create on a behavioral event definition (`ExternalBehavioralEventPropertyCreate`, EVDEF-v3: `label`
/// and `type` required; `name`; `options` for enumerations).
public struct HubSpotEventPropertyDefinition: Sendable, Hashable, Encodable {
    /// An option of an enumeration (`OptionInput`: `label`, `value`, `displayOrder`, `hidden` all required).
    public struct Option: Sendable, Hashable, Encodable {
        public var label: String
        public var value: String
        public var displayOrder: Int
        public var hidden: Bool
    }

    public var name: String
    public var label: String
    /// `string`, `number`, `datetime` or `enumeration`: the types EVDEF-v3 names for event properties.
    public var type: String
    public var options: [Option]?

    /// A property of HubSpot type `type`. `bool` (not an event property type in EVDEF-v3) becomes an `enumeration` with
    /// the options `true` and `false`; an unknown type becomes `string`.
    public init(name: String, type: String) {
        self.name = name
        self.label = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        switch type {
        case "number", "datetime", "string":
            self.type = type
        case "bool", "enumeration":
            self.type = "enumeration"
            self.options = [
                Option(label: "True", value: "true", displayOrder: 0, hidden: false),
                Option(label: "False", value: "false", displayOrder: 1, hidden: false),
            ]
        default:
            self.type = "string"
        }
    }
}

extension HubSpotClient {
    // MARK: - Behavioral event definitions

    /// `GET /events/v3/event-definitions?includeProperties=true`: every custom behavioral event definition of the
    /// account, with its properties (all pages).
    public func eventDefinitions() async throws -> [HubSpotEventDefinition] {
        struct Next: Decodable { var after: String }
        struct Paging: Decodable { var next: Next? }
        struct Page: Decodable {
            var results: [HubSpotEventDefinition]
            var paging: Paging?
        }
        var definitions: [HubSpotEventDefinition] = []
        var after: String?
        repeat {
            var path = "/events/v3/event-definitions?includeProperties=true&limit=100"
            if let after { path += "&after=" + Self.queryValue(after) }
            let page = try decode(Page.self, from: try await send(.GET, path, body: Optional<Int>.none))
            definitions += page.results
            after = page.paging?.next?.after
        } while after != nil
        return definitions
    }

    /// `POST /events/v3/event-definitions`: creates a definition whose primary object is the contact, with HubSpot's
    /// default properties and `properties`. A name that exists is answered `409` (thrown: the caller reads the list).
    /// - Parameters:
    ///   - name: The internal name (lower-case letters, digits, `_`; at most 50 characters); HubSpot makes the fully
    ///     qualified name `pe<portal>_<name>` from it.
    ///   - properties: The custom properties.
    public func createEventDefinition(name: String, properties: [HubSpotEventPropertyDefinition]) async throws -> HubSpotEventDefinition {
        struct Body: Encodable {
            var label: String
            var name: String
            var primaryObject = "CONTACT"
            var includeDefaultProperties = true
            var propertyDefinitions: [HubSpotEventPropertyDefinition]
        }
        let label = name.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: " ")
        let answer = try await send(
            .POST, "/events/v3/event-definitions",
            body: Body(label: String(label.prefix(100)), name: name, propertyDefinitions: properties.sorted { $0.name < $1.name }))
        return try decode(HubSpotEventDefinition.self, from: answer)
    }

    /// `POST /events/v3/event-definitions/{eventName}/property`: adds a property to a definition (by its internal
    /// name). A property that exists (`409`) counts as added.
    public func addEventProperty(_ property: HubSpotEventPropertyDefinition, toDefinition name: String) async throws {
        do {
            _ = try await send(.POST, "/events/v3/event-definitions/\(Self.pathSegment(name))/property", body: property)
        } catch let error as HubSpotError where error.code == .conflict {
            return
        }
    }
}
