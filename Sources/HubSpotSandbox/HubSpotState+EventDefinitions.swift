import Foundation

/// Custom event definitions: `/events/v3/event-definitions` (EVDEF-v3).
extension HubSpotState {
    /// The event property types EVDEF-v3 names (`ExternalBehavioralEventPropertyCreate.type`: "one of string, number,
    /// enumeration, datetime"). `bool` is a CRM property type, not an event one: it is refused.
    static let eventPropertyTypes: Set<String> = ["string", "number", "enumeration", "datetime"]
    /// HubSpot's limit on custom properties per event definition.
    static let eventDefinitionPropertyLimit = 50

    /// Reads one `ExternalBehavioralEventPropertyCreate`: `label` and `type` required, `name` (else made from the
    /// label), `options` (required, and only allowed, for an enumeration).
    private func parseEventProperty(_ body: JSONObject) throws -> (name: String, property: BehavioralEventDefinition.Property) {
        let schema = "ExternalBehavioralEventPropertyCreate"
        try body.rejectUnknownKeys(["name", "label", "type", "description", "options"], schema)
        let label = try body.requiredString("label", schema)
        let type = try body.requiredString("type", schema)
        let name = try body.optionalString("name", schema) ?? Self.internalName(label)
        guard Self.isLowerSnakeCase(name), name.count <= 50, !name.hasPrefix("hs_") else {
            throw HubSpotError.validation("Invalid event property name \"\(name)\"")
        }
        guard Self.eventPropertyTypes.contains(type) else {
            throw HubSpotError.validation(
                "Invalid type \(type) of event property \(name): expected one of datetime, enumeration, number, string")
        }
        var options: [String] = []
        for option in try body.optionalArray("options", schema) ?? [] {
            guard case .object(let object) = option else {
                throw HubSpotError.validation("Invalid options of \(name): expected objects with label, value, displayOrder, hidden")
            }
            _ = try object.requiredString("label", "OptionInput")
            options.append(try object.requiredString("value", "OptionInput"))
            guard try object.optionalInt("displayOrder", "OptionInput") != nil, try object.optionalBool("hidden", "OptionInput") != nil else {
                throw HubSpotError.validation("Invalid option of \(name): OptionInput requires displayOrder and hidden")
            }
        }
        if type == "enumeration" && options.isEmpty {
            throw HubSpotError.validation("Event property \(name) is an enumeration: it needs options")
        }
        return (name, BehavioralEventDefinition.Property(type: type, options: type == "enumeration" ? options : []))
    }

    /// The name HubSpot makes from a label: lower-case, other characters as `_`.
    private static func internalName(_ label: String) -> String {
        String(label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// `POST /events/v3/event-definitions` (`ExternalBehavioralEventTypeDefinitionEgg`: `label` and
    /// `propertyDefinitions` required) → 201; 409 when the name exists.
    mutating func createEventDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "ExternalBehavioralEventTypeDefinitionEgg"
        let body = try call.object(schema)
        try body.rejectUnknownKeys(
            ["label", "name", "description", "primaryObject", "propertyDefinitions", "includeDefaultProperties", "customMatchingId"],
            schema)
        let label = try body.requiredString("label", schema)
        guard label.count <= 100 else { throw HubSpotError.validation("Invalid label: at most 100 characters") }
        let name = try body.optionalString("name", schema) ?? Self.internalName(label)
        guard Self.isLowerSnakeCase(name), name.count <= 50 else {
            throw HubSpotError.validation(
                "Invalid event name \"\(name)\": names are lower-case, start with a letter, hold only a-z, 0-9 and _")
        }
        let primaryObject = try body.optionalString("primaryObject", schema) ?? "CONTACT"
        guard ["CONTACT", "COMPANY", "DEAL", "TICKET"].contains(primaryObject) else {
            throw HubSpotError.validation("Invalid primaryObject \(primaryObject): expected CONTACT, COMPANY, DEAL or TICKET")
        }
        _ = try body.optionalBool("includeDefaultProperties", schema)
        var properties: [String: BehavioralEventDefinition.Property] = [:]
        let definitions = try body.requiredObjects("propertyDefinitions", schema)
        guard definitions.count <= Self.eventDefinitionPropertyLimit else {
            throw HubSpotError.validation("Too many properties: a definition holds at most \(Self.eventDefinitionPropertyLimit)")
        }
        for property in definitions {
            let (propertyName, definition) = try parseEventProperty(property)
            guard properties[propertyName] == nil else {
                throw HubSpotError.validation("Event property \(propertyName) is listed twice")
            }
            properties[propertyName] = definition
        }
        let definition = BehavioralEventDefinition(
            name: name, label: label, portalID: portalID, primaryObject: primaryObject, properties: properties,
            id: String(nextObjectID), createdAt: timestamp(call.now))
        guard eventDefinitions[definition.fullyQualifiedName] == nil else {
            throw HubSpotError.conflict("An event definition named '\(name)' already exists.")
        }
        nextObjectID += 1
        eventDefinitions[definition.fullyQualifiedName] = definition
        return .json(definition.json(), status: 201)
    }

    /// `POST /events/v3/event-definitions/{eventName}/property` (internal name) → 201 `Property`; 409 when the
    /// definition has a property of that name; 404 for an unknown definition.
    mutating func createEventProperty(_ call: HubSpotCall) throws -> HubSpotReply {
        let wanted = call.parameters[0]
        guard var definition = eventDefinitions.values.first(where: { $0.name == wanted }) else {
            throw HubSpotError.notFound("Event definition \(wanted) does not exist")
        }
        let (name, property) = try parseEventProperty(try call.object("ExternalBehavioralEventPropertyCreate"))
        guard definition.properties[name] == nil else {
            throw HubSpotError.conflict("Property \(name) already exists on event \(wanted)")
        }
        guard definition.properties.count < Self.eventDefinitionPropertyLimit else {
            throw HubSpotError.validation("Too many properties: a definition holds at most \(Self.eventDefinitionPropertyLimit)")
        }
        definition.properties[name] = property
        eventDefinitions[definition.fullyQualifiedName] = definition
        return .json(BehavioralEventDefinition.propertyJSON(name: name, property, createdAt: timestamp(call.now)), status: 201)
    }

    /// `GET /events/v3/event-definitions[?includeProperties&limit&after]` → `{"results","total","paging"}`, sorted by
    /// name; `limit` 1–100, default 20 (undocumented; HubSpot's list endpoints' usual default is assumed).
    func listEventDefinitions(_ call: HubSpotCall) throws -> HubSpotReply {
        let includeProperties = try call.flag("includeProperties")
        var all = eventDefinitions.values.sorted { $0.name < $1.name }
        if let search = call.query["searchString"] { all = all.filter { $0.name.contains(search) } }
        let page = try call.page(of: all, defaultLimit: 20)
        var object: JSONObject = [
            "results": .array(page.elements.map { $0.json(includeProperties: includeProperties) }), "total": .int(all.count),
        ]
        object["paging"] = page.paging
        return .json(.object(object))
    }

    /// `GET /events/v3/event-definitions/{eventName}` (internal or fully qualified name).
    func getEventDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let wanted = call.parameters[0]
        guard let definition = eventDefinitions.values.first(where: { $0.name == wanted || $0.fullyQualifiedName == wanted })
        else {
            throw HubSpotError.notFound("Event definition \(wanted) does not exist")
        }
        return .json(definition.json())
    }

    /// Checks an occurrence against its definition: an unknown event is refused when definitions are required (the
    /// default, as HubSpot does), a property the definition lacks is refused (HubSpot's `hs_` defaults aside), and each
    /// value must suit its property's type: a number, a datetime (ISO 8601 or epoch milliseconds), one of an
    /// enumeration's options.
    func checkAgainstDefinition(eventName: String, properties: [String: String]) throws {
        guard let definition = eventDefinitions[eventName] else {
            if requireEventDefinitions {
                throw HubSpotError.validation("Event definition \(eventName) does not exist")
            }
            return
        }
        let unknown = properties.keys.filter { !$0.hasPrefix("hs_") && definition.properties[$0] == nil }.sorted()
        if !unknown.isEmpty {
            throw HubSpotError.validation(
                "Properties [\(unknown.joined(separator: ", "))] are not defined on event \(eventName)")
        }
        for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
            guard let property = definition.properties[name] else { continue }
            let valid: Bool
            switch property.type {
            case "number": valid = Double(value).map { $0.isFinite } ?? false
            case "datetime": valid = HubSpotTime.parse(value) != nil || Int64(value) != nil
            case "enumeration": valid = property.options.contains(value)
            default: valid = true
            }
            guard valid else {
                throw HubSpotError.validation(
                    "Property values were not valid: \(name) is a \(property.type) property of event \(eventName) and cannot take \"\(value)\"")
            }
        }
    }
}
