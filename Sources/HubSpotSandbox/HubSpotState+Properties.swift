import Foundation

/// Properties API: `/crm/v3/properties/{objectType}` and its groups.
extension HubSpotState {

    private func property(_ type: String, _ name: String) throws -> HubSpotProperty {
        guard let property = store(type).properties[name] else {
            throw HubSpotError.notFound("Property \(name) does not exist")
        }
        return property
    }

    /// `GET /crm/v3/properties/{type}` → `{"results":[…]}`.
    func listProperties(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        return .json(["results": .array(store(type).orderedProperties.map(\.json))])
    }

    /// `GET /crm/v3/properties/{type}/{name}`.
    func getProperty(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        return .json(try property(type, call.parameters[1]).json)
    }

    /// Reads `options: [{"label","value","displayOrder","hidden","description"}]`.
    private func parseOptions(_ body: JSONObject, _ schema: String) throws -> [HubSpotProperty.Option]? {
        guard let items = try body.optionalArray("options", schema) else { return nil }
        var values: Set<String> = []
        return try items.enumerated().map { index, item in
            guard case .object(let object) = item else {
                throw HubSpotError.validation("Invalid input JSON: options[\(index)] must be an object")
            }
            let option = HubSpotProperty.Option(
                label: try object.requiredString("label", "OptionInput"), value: try object.requiredString("value", "OptionInput"),
                displayOrder: try object.optionalInt("displayOrder", "OptionInput") ?? index,
                hidden: try object.optionalBool("hidden", "OptionInput") ?? false,
                description: try object.optionalString("description", "OptionInput"))
            guard values.insert(option.value).inserted else {
                throw HubSpotError.validation("Invalid input: option value \(option.value) appears more than once")
            }
            return option
        }
    }

    private func checkFieldType(_ fieldType: String, for type: HubSpotProperty.ValueType) throws {
        guard HubSpotProperty.fieldTypes.contains(fieldType) else {
            throw HubSpotError.validation(
                "Invalid input: fieldType \(fieldType) is not one of \(HubSpotProperty.fieldTypes.sorted().joined(separator: ", "))")
        }
        guard HubSpotProperty.fieldTypesByType[type]!.contains(fieldType) else {
            throw HubSpotError.validation("Invalid input: fieldType \(fieldType) cannot be used with type \(type.rawValue)")
        }
    }

    /// Checks a create body and returns the property; does not store it.
    private func parsePropertyCreate(_ body: JSONObject, type: String, now: Date) throws -> HubSpotProperty {
        let schema = "PropertyCreate"
        try body.rejectUnknownKeys(
            [
                "name", "label", "type", "fieldType", "groupName", "description", "options", "displayOrder", "hidden",
                "formField", "hasUniqueValue", "calculationFormula", "externalOptions", "referencedObjectType",
                "dataSensitivity",
            ], schema)
        let name = try body.requiredString("name", schema)
        let label = try body.requiredString("label", schema)
        let typeText = try body.requiredString("type", schema)
        let fieldType = try body.requiredString("fieldType", schema)
        let groupName = try body.requiredString("groupName", schema)
        guard Self.isLowerSnakeCase(name), name.count <= 100 else {
            throw HubSpotError.validation(
                "Invalid input: property name \"\(name)\" must start with a lower-case letter and hold only a-z, 0-9 and _")
        }
        guard let valueType = HubSpotProperty.ValueType(rawValue: typeText) else {
            throw HubSpotError.validation(
                "Invalid input: type \(typeText) is not one of \(HubSpotProperty.ValueType.allCases.map(\.rawValue).sorted().joined(separator: ", "))")
        }
        try checkFieldType(fieldType, for: valueType)
        guard store(type).groups.contains(where: { $0.name == groupName && !$0.archived }) else {
            throw HubSpotError.validation("Invalid input: property group \(groupName) does not exist")
        }
        let options = try parseOptions(body, schema) ?? []
        if valueType == .enumeration && options.isEmpty && fieldType != "booleancheckbox" {
            throw HubSpotError.validation("Invalid input: an enumeration property needs options")
        }
        return HubSpotProperty(
            name: name, label: label, type: valueType, fieldType: fieldType, groupName: groupName,
            description: try body.optionalString("description", schema) ?? "", options: options,
            displayOrder: try body.optionalInt("displayOrder", schema) ?? -1, hidden: try body.optionalBool("hidden", schema) ?? false,
            formField: try body.optionalBool("formField", schema) ?? false,
            hasUniqueValue: try body.optionalBool("hasUniqueValue", schema) ?? false, createdAt: now)
    }

    /// `POST /crm/v3/properties/{type}` → 201; 409 when the name exists.
    mutating func createProperty(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let property = try parsePropertyCreate(try call.object("PropertyCreate"), type: type, now: timestamp(call.now))
        guard store(type).properties[property.name] == nil else {
            throw HubSpotError.conflict("A property named '\(property.name)' already exists.")
        }
        stores[type]!.define(property)
        return .json(property.json, status: 201)
    }

    /// `POST /crm/v3/properties/{type}/batch/create` → 201 / 207.
    mutating func batchCreateProperties(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let inputs = try call.object("BatchInputPropertyCreate").requiredObjects("inputs", "BatchInputPropertyCreate")
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for input in inputs {
            let property = try parsePropertyCreate(input, type: type, now: timestamp(call.now))
            if store(type).properties[property.name] != nil {
                var error = HubSpotError.conflict("A property named '\(property.name)' already exists.")
                error.context = ["name": [.string(property.name)]]
                errors.append(error)
            } else {
                stores[type]!.define(property)
                results.append(property.json)
            }
        }
        return batchReply(results: results, errors: errors, startedAt: call.now, successStatus: 201)
    }

    /// `POST /crm/v3/properties/{type}/batch/read` `{"inputs":[{"name"}]}` → 200 / 207.
    func batchReadProperties(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let inputs = try call.object("BatchReadInputPropertyName").requiredObjects("inputs", "BatchReadInputPropertyName")
        var results: [JSON] = []
        var missing: [String] = []
        for input in inputs {
            let name = try input.requiredString("name", "PropertyName")
            if let property = store(type).properties[name] { results.append(property.json) } else { missing.append(name) }
        }
        var errors: [HubSpotError] = []
        if !missing.isEmpty {
            var error = HubSpotError.notFound("Some properties do not exist")
            error.context = ["names": .array(missing.map(JSON.string))]
            errors.append(error)
        }
        return batchReply(results: results, errors: errors, startedAt: call.now)
    }

    /// `PATCH /crm/v3/properties/{type}/{name}` → 200.
    mutating func updateProperty(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        var property = try property(type, call.parameters[1])
        let schema = "PropertyUpdate"
        let body = try call.object(schema)
        try body.rejectUnknownKeys(
            [
                "label", "type", "fieldType", "groupName", "description", "options", "displayOrder", "hidden", "formField",
                "calculationFormula",
            ], schema)
        if property.hubspotDefined && property.readOnlyValue {
            throw HubSpotError.validation("Property \(property.name) is read-only and cannot be changed")
        }
        if let label = try body.optionalString("label", schema) { property.label = label }
        if let description = try body.optionalString("description", schema) { property.description = description }
        if let groupName = try body.optionalString("groupName", schema) {
            guard store(type).groups.contains(where: { $0.name == groupName && !$0.archived }) else {
                throw HubSpotError.validation("Invalid input: property group \(groupName) does not exist")
            }
            property.groupName = groupName
        }
        if let typeText = try body.optionalString("type", schema) {
            guard let valueType = HubSpotProperty.ValueType(rawValue: typeText) else {
                throw HubSpotError.validation("Invalid input: type \(typeText) is not a property type")
            }
            property.type = valueType
        }
        if let fieldType = try body.optionalString("fieldType", schema) { property.fieldType = fieldType }
        try checkFieldType(property.fieldType, for: property.type)
        if let options = try parseOptions(body, schema) { property.options = options }
        if let displayOrder = try body.optionalInt("displayOrder", schema) { property.displayOrder = displayOrder }
        if let hidden = try body.optionalBool("hidden", schema) { property.hidden = hidden }
        if let formField = try body.optionalBool("formField", schema) { property.formField = formField }
        property.updatedAt = timestamp(call.now)
        stores[type]!.define(property)
        return .json(property.json)
    }

    /// `DELETE /crm/v3/properties/{type}/{name}` → 204; HubSpot-defined properties cannot be archived.
    mutating func archiveProperty(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let property = try property(type, call.parameters[1])
        if property.hubspotDefined {
            throw HubSpotError.validation("Property \(property.name) is defined by HubSpot and cannot be archived")
        }
        stores[type]!.remove(property: property.name)
        return .noContent
    }

    /// `POST /crm/v3/properties/{type}/batch/archive` `{"inputs":[{"name"}]}` → 204; unknown names are ignored.
    mutating func batchArchiveProperties(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let inputs = try call.object("BatchInputPropertyName").requiredObjects("inputs", "BatchInputPropertyName")
        let names = try inputs.map { try $0.requiredString("name", "PropertyName") }
        if let defined = names.first(where: { store(type).properties[$0]?.hubspotDefined == true }) {
            throw HubSpotError.validation("Property \(defined) is defined by HubSpot and cannot be archived")
        }
        for name in names { stores[type]!.remove(property: name) }
        return .noContent
    }

    // MARK: - Groups

    /// `GET /crm/v3/properties/{type}/groups`.
    func listGroups(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        return .json(["results": .array(store(type).groups.filter { !$0.archived }.map(\.json))])
    }

    /// `GET /crm/v3/properties/{type}/groups/{name}`.
    func getGroup(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        guard let group = store(type).groups.first(where: { $0.name == call.parameters[1] && !$0.archived }) else {
            throw HubSpotError.notFound("Property group \(call.parameters[1]) does not exist")
        }
        return .json(group.json)
    }

    /// `POST /crm/v3/properties/{type}/groups` `{"name","label","displayOrder"}` → 201.
    mutating func createGroup(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let schema = "PropertyGroupCreate"
        let body = try call.object(schema)
        let name = try body.requiredString("name", schema)
        let label = try body.requiredString("label", schema)
        guard Self.isLowerSnakeCase(name) else {
            throw HubSpotError.validation(
                "Invalid input: group name \"\(name)\" must start with a lower-case letter and hold only a-z, 0-9 and _")
        }
        guard !store(type).groups.contains(where: { $0.name == name && !$0.archived }) else {
            throw HubSpotError.conflict("A property group named '\(name)' already exists.")
        }
        let group = HubSpotPropertyGroup(name: name, label: label, displayOrder: try body.optionalInt("displayOrder", schema) ?? -1)
        stores[type]!.groups.removeAll { $0.name == name }
        stores[type]!.groups.append(group)
        return .json(group.json, status: 201)
    }

    /// `PATCH /crm/v3/properties/{type}/groups/{name}` `{"label","displayOrder"}`.
    mutating func updateGroup(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        guard let index = store(type).groups.firstIndex(where: { $0.name == call.parameters[1] && !$0.archived }) else {
            throw HubSpotError.notFound("Property group \(call.parameters[1]) does not exist")
        }
        let body = try call.object("PropertyGroupUpdate")
        if let label = try body.optionalString("label", "PropertyGroupUpdate") { stores[type]!.groups[index].label = label }
        if let order = try body.optionalInt("displayOrder", "PropertyGroupUpdate") { stores[type]!.groups[index].displayOrder = order }
        return .json(store(type).groups[index].json)
    }

    /// `DELETE /crm/v3/properties/{type}/groups/{name}` → 204.
    mutating func archiveGroup(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        guard let index = store(type).groups.firstIndex(where: { $0.name == call.parameters[1] && !$0.archived }) else {
            throw HubSpotError.notFound("Property group \(call.parameters[1]) does not exist")
        }
        stores[type]!.groups[index].archived = true
        return .noContent
    }
}
