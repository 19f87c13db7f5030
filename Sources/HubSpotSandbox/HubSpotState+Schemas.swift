import Foundation

/// Association labels (`/crm/v4/associations/{from}/{to}/labels`) and custom object schemas (`/crm/v3/schemas`).
extension HubSpotState {
    // MARK: - Association labels

    private func labelJSON(_ spec: AssociationStore.TypeSpec) -> JSON {
        ["category": .string(spec.category), "typeId": .int(spec.typeID), "label": spec.label.json]
    }

    /// `GET /crm/v4/associations/{from}/{to}/labels` → every association type between the two object types.
    mutating func listAssociationLabels(_ call: HubSpotCall) throws -> HubSpotReply {
        let from = try typeName(call.parameters[0])
        let to = try typeName(call.parameters[1])
        _ = associations.defaultType(from: from, to: to)
        return .json(["results": .array(associations.specs(from: from, to: to).map(labelJSON))])
    }

    /// `POST /crm/v4/associations/{from}/{to}/labels` `{"label","name","inverseLabel"}` → 200 with the new
    /// `USER_DEFINED` types.
    mutating func createAssociationLabel(_ call: HubSpotCall) throws -> HubSpotReply {
        let from = try typeName(call.parameters[0])
        let to = try typeName(call.parameters[1])
        let schema = "PublicAssociationDefinitionCreateRequest"
        let body = try call.object(schema)
        let label = try body.requiredString("label", schema)
        let name = try body.requiredString("name", schema)
        guard !label.isEmpty, !name.isEmpty else {
            throw HubSpotError.validation("Invalid input: label and name must not be empty")
        }
        if associations.specs(from: from, to: to).contains(where: { $0.label == label }) {
            throw HubSpotError.conflict("An association label '\(label)' already exists between these object types.")
        }
        let (forward, inverse) = associations.addLabel(
            from: from, to: to, label: label, inverseLabel: try body.optionalString("inverseLabel", schema))
        return .json(["results": .array([labelJSON(forward), labelJSON(inverse)])])
    }

    // MARK: - Schemas

    private func schemaJSON(_ store: ObjectStore) -> JSON {
        let type = store.type
        let created = store.orderedProperties.map(\.createdAt).min() ?? Date(timeIntervalSince1970: 0)
        let custom = store.orderedProperties.filter { !$0.hubspotDefined }
        return [
            "id": .string(String(type.objectTypeID.split(separator: "-").last ?? "")),
            "name": .string(type.name),
            "labels": ["singular": .string(type.singular), "plural": .string(type.name)],
            "objectTypeId": .string(type.objectTypeID),
            "fullyQualifiedName": type.fullyQualifiedName.json,
            "primaryDisplayProperty": custom.first.map { JSON.string($0.name) } ?? .null,
            "requiredProperties": [],
            "searchableProperties": .array(type.queryProperties.map(JSON.string)),
            "secondaryDisplayProperties": [],
            "properties": .array(store.orderedProperties.map(\.json)),
            "associations": .array(
                ["contacts", "companies", "notes"].compactMap { other in
                    associations.specs(from: type.name, to: other).first { $0.label == nil }.map { spec in
                        [
                            "fromObjectTypeId": .string(type.objectTypeID),
                            "toObjectTypeId": .string(self.store(other).type.objectTypeID),
                            "name": .string("\(type.singular)_to_\(self.store(other).type.singular)".uppercased()),
                            "id": .string(String(spec.typeID)),
                        ]
                    }
                }),
            "createdAt": .string(HubSpotTime.iso(created)), "updatedAt": .string(HubSpotTime.iso(created)),
            "archived": false,
        ]
    }

    /// `GET /crm/v3/schemas` → the custom object schemas.
    func listSchemas(_ call: HubSpotCall) throws -> HubSpotReply {
        let custom = stores.values.filter { $0.type.fullyQualifiedName != nil }.sorted { $0.type.name < $1.type.name }
        return .json(["results": .array(custom.map(schemaJSON))])
    }

    /// `GET /crm/v3/schemas/{objectType}` (name, fully qualified name or object type id).
    func getSchema(_ call: HubSpotCall) throws -> HubSpotReply {
        guard let name = try? typeName(call.parameters[0]), store(name).type.fullyQualifiedName != nil else {
            throw HubSpotError.notFound("Unable to find object schema \(call.parameters[0])")
        }
        return .json(schemaJSON(store(name)))
    }
}
