import Foundation

/// Custom event definitions: `/events/v3/event-definitions`.
extension HubSpotState {
    /// `POST /events/v3/event-definitions` `{"label","name","primaryObject","propertyDefinitions":[{"name","label","type"}]}`
    /// → 201; 409 when the name exists.
    mutating func createEventDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "ExternalBehavioralEventTypeDefinitionEgg"
        let body = try call.object(schema)
        let label = try body.requiredString("label", schema)
        let name = try body.optionalString("name", schema)
            ?? String(label.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
        guard Self.isLowerSnakeCase(name), name.count <= 50 else {
            throw HubSpotError.validation(
                "Invalid event name \"\(name)\": names are lower-case, start with a letter, hold only a-z, 0-9 and _")
        }
        let primaryObject = try body.optionalString("primaryObject", schema) ?? "CONTACT"
        var propertyNames: [String] = []
        for property in try body.requiredObjects("propertyDefinitions", schema) {
            let propertyName = try property.requiredString("name", "ExternalBehavioralEventPropertyCreate")
            _ = try property.requiredString("label", "ExternalBehavioralEventPropertyCreate")
            let type = try property.requiredString("type", "ExternalBehavioralEventPropertyCreate")
            guard Self.isLowerSnakeCase(propertyName), propertyName.count <= 50, !propertyName.hasPrefix("hs_") else {
                throw HubSpotError.validation("Invalid event property name \"\(propertyName)\"")
            }
            guard ["string", "number", "enumeration", "datetime", "bool"].contains(type) else {
                throw HubSpotError.validation("Invalid event property type \(type) of \(propertyName)")
            }
            propertyNames.append(propertyName)
        }
        let definition = BehavioralEventDefinition(
            name: name, label: label, portalID: portalID, primaryObject: primaryObject, propertyNames: propertyNames,
            id: String(nextObjectID), createdAt: timestamp(call.now))
        guard eventDefinitions[definition.fullyQualifiedName] == nil else {
            throw HubSpotError.conflict("An event definition named '\(name)' already exists.")
        }
        nextObjectID += 1
        eventDefinitions[definition.fullyQualifiedName] = definition
        return .json(definition.json, status: 201)
    }

    /// `GET /events/v3/event-definitions` → `{"results":[…],"total"}`.
    func listEventDefinitions(_ call: HubSpotCall) throws -> HubSpotReply {
        let all = eventDefinitions.values.sorted { $0.name < $1.name }
        return .json(["results": .array(all.map(\.json)), "total": .int(all.count)])
    }

    /// `GET /events/v3/event-definitions/{eventName}` (internal or fully qualified name).
    func getEventDefinition(_ call: HubSpotCall) throws -> HubSpotReply {
        let wanted = call.parameters[0]
        guard let definition = eventDefinitions.values.first(where: { $0.name == wanted || $0.fullyQualifiedName == wanted })
        else {
            throw HubSpotError.notFound("Event definition \(wanted) does not exist")
        }
        return .json(definition.json)
    }

    /// Checks an occurrence against its definition: unknown events are refused when definitions are required, and
    /// properties a definition does not list are refused (HubSpot's `hs_` defaults aside).
    func checkAgainstDefinition(eventName: String, properties: [String: String]) throws {
        guard let definition = eventDefinitions[eventName] else {
            if requireEventDefinitions {
                throw HubSpotError.validation("Event definition \(eventName) does not exist")
            }
            return
        }
        let unknown = properties.keys.filter { !$0.hasPrefix("hs_") && !definition.propertyNames.contains($0) }.sorted()
        if !unknown.isEmpty {
            throw HubSpotError.validation(
                "Properties [\(unknown.joined(separator: ", "))] are not defined on event \(eventName)")
        }
    }
}
