import Foundation

/// Associations: v3 `associations` on create and `?associations=` on reads, and the v4 API
/// (`/crm/v4/objects/{from}/{id}/associations/…`, `/crm/v4/associations/{from}/{to}/batch/…`).
extension HubSpotState {
    // MARK: - v3

    /// Parses `associations: [{"to":{"id"},"types":[{"associationCategory","associationTypeId"}]}]` of a create body,
    /// checking that each type exists and each target is a live object.
    func parseCreateAssociations(_ body: JSONObject, type: String) throws -> [(AssociationStore.TypeSpec, ObjectRef)] {
        let schema = "PublicAssociationsForObject"
        guard let items = try body.optionalArray("associations", "SimplePublicObjectInputForCreate") else { return [] }
        var links: [(AssociationStore.TypeSpec, ObjectRef)] = []
        for item in items {
            guard case .object(let association) = item else {
                throw HubSpotError.validation("Invalid input JSON: associations must be objects")
            }
            let targetID = try association.requiredObject("to", schema).requiredID("id", "PublicObjectId")
            for typeItem in try association.requiredObjects("types", schema) {
                let spec = try associationSpec(typeItem, from: type)
                guard let id = Int(targetID), store(spec.to).live(id) != nil else {
                    throw HubSpotError.validation(
                        "Invalid association: \(store(spec.to).type.singular) \(targetID) does not exist")
                }
                links.append((spec, ObjectRef(type: spec.to, id: id)))
            }
        }
        return links
    }

    /// Reads `{"associationCategory","associationTypeId"}` and finds the type it names from `from`.
    func associationSpec(_ object: JSONObject, from: String, to: String? = nil) throws -> AssociationStore.TypeSpec {
        let schema = "AssociationSpec"
        let category = try object.requiredString("associationCategory", schema)
        guard ["HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED", "WORK"].contains(category) else {
            throw HubSpotError.validation(
                "Invalid input JSON: associationCategory \(category) is not one of HUBSPOT_DEFINED, USER_DEFINED, INTEGRATOR_DEFINED, WORK")
        }
        guard let typeID = try object.optionalInt("associationTypeId", schema) else {
            throw HubSpotError.validation(
                "Invalid input JSON: Cannot build \(schema), some of required attributes are not set [associationTypeId]")
        }
        guard let spec = associations.spec(from: from, typeID: typeID), spec.category == category,
            to == nil || spec.to == to
        else {
            let target = to.map { " to \(store($0).type.singular)" } ?? ""
            throw HubSpotError.validation(
                "Invalid association type: \(category) \(typeID) is not a type from \(store(from).type.singular)\(target)")
        }
        return spec
    }

    /// The v3 `associations` member of a read: `{"companies":{"results":[{"id","type"}]}}`.
    func v3Associations(of record: HubSpotRecord, to types: [String]) -> JSON {
        let from = ObjectRef(type: record.objectType, id: Int(record.id)!)
        var object: JSONObject = [:]
        for toType in types {
            let targets = associations.targets(of: from, toType: toType)
            guard !targets.isEmpty else { continue }
            var results: [JSON] = []
            for (target, specs) in targets {
                let hasLabels = specs.contains { $0.label != nil }
                for spec in specs {
                    var name = "\(store(record.objectType).type.singular)_to_\(store(toType).type.singular)"
                    if spec.label == nil && hasLabels { name += "_unlabeled" }
                    results.append(["id": .string(String(target.id)), "type": .string(name)])
                }
            }
            object[toType] = ["results": .array(results)]
        }
        return .object(object)
    }

    // MARK: - v4 helpers

    private func liveRef(_ type: String, _ raw: String) throws -> ObjectRef {
        guard let id = Int(raw), store(type).live(id) != nil else {
            throw HubSpotError.notFound("\(store(type).type.messageName) \(raw) does not exist")
        }
        return ObjectRef(type: type, id: id)
    }

    private func typeJSON(_ spec: AssociationStore.TypeSpec) -> JSON {
        ["category": .string(spec.category), "typeId": .int(spec.typeID), "label": spec.label.json]
    }

    private func defaultResult(_ spec: AssociationStore.TypeSpec, from: ObjectRef, to: ObjectRef) -> JSON {
        [
            "from": ["id": .string(String(from.id))], "to": ["id": .string(String(to.id))],
            "associationSpec": ["associationCategory": .string(spec.category), "associationTypeId": .int(spec.typeID)],
        ]
    }

    private func labelsResult(from: ObjectRef, to: ObjectRef) -> JSON {
        let specs = associations.links[from]?[to] ?? []
        return [
            // Numbers, as HubSpot answers them (its specs say strings; HubSpot's own v4 clients read integers).
            "fromObjectTypeId": .string(store(from.type).type.objectTypeID), "fromObjectId": .int(from.id),
            "toObjectTypeId": .string(store(to.type).type.objectTypeID), "toObjectId": .int(to.id),
            "labels": .array(specs.compactMap { $0.label.map(JSON.string) }),
        ]
    }

    /// Adds the labelled types and, as HubSpot does, the pair's unlabelled default type.
    private mutating func associate(_ specs: [AssociationStore.TypeSpec], from: ObjectRef, to: ObjectRef) {
        let fallback = associations.defaultType(from: from.type, to: to.type)
        associations.add(fallback, from: from, to: to)
        for spec in specs { associations.add(spec, from: from, to: to) }
    }

    // MARK: - v4 single

    /// `PUT /crm/v4/objects/{from}/{id}/associations/default/{to}/{toId}` → 200.
    mutating func putDefaultAssociation(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[2])
        let from = try liveRef(fromType, call.parameters[1])
        let to = try liveRef(toType, call.parameters[3])
        let spec = associations.defaultType(from: fromType, to: toType)
        associations.add(spec, from: from, to: to)
        let inverse = associations.spec(from: toType, typeID: spec.inverseTypeID)!
        return batchReply(
            results: [defaultResult(spec, from: from, to: to), defaultResult(inverse, from: to, to: from)], errors: [],
            startedAt: call.now)
    }

    /// `PUT /crm/v4/objects/{from}/{id}/associations/{to}/{toId}` with `[{"associationCategory","associationTypeId"}]`
    /// → 201.
    mutating func putLabelledAssociation(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[2])
        guard case .array(let items) = try call.json() else {
            throw HubSpotError.validation("Invalid input JSON: expected an array of AssociationSpec")
        }
        let specs = try items.map { item in
            guard case .object(let object) = item else {
                throw HubSpotError.validation("Invalid input JSON: expected an array of AssociationSpec objects")
            }
            return try associationSpec(object, from: fromType, to: toType)
        }
        let from = try liveRef(fromType, call.parameters[1])
        let to = try liveRef(toType, call.parameters[3])
        associate(specs, from: from, to: to)
        return .json(labelsResult(from: from, to: to), status: 201)
    }

    /// `GET /crm/v4/objects/{from}/{id}/associations/{to}?limit&after` → 200.
    func listAssociations(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[2])
        let from = try liveRef(fromType, call.parameters[1])
        let limit = try call.integer("limit") ?? 500
        guard (1...500).contains(limit) else {
            throw HubSpotError.validation("Invalid query parameter limit: \(limit) is not between 1 and 500")
        }
        let after = try call.integer("after") ?? 0
        let targets = associations.targets(of: from, toType: toType).filter { $0.0.id >= after }
        var object: JSONObject = [
            "results": .array(
                targets.prefix(limit).map { target, specs in
                    ["toObjectId": .int(target.id), "associationTypes": .array(specs.map(typeJSON))]
                })
        ]
        if targets.count > limit {
            let next = String(targets[limit].0.id)
            object["paging"] = ["next": ["after": .string(next), "link": .string("?after=\(next)")]]
        }
        return .json(.object(object))
    }

    /// `DELETE /crm/v4/objects/{from}/{id}/associations/{to}/{toId}` → 204.
    mutating func deleteAssociation(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[2])
        guard let fromID = Int(call.parameters[1]), let toID = Int(call.parameters[3]) else {
            throw HubSpotError.notFound()
        }
        associations.remove(from: ObjectRef(type: fromType, id: fromID), to: ObjectRef(type: toType, id: toID))
        return .noContent
    }

    // MARK: - v4 batch

    private func batchInputs(_ call: HubSpotCall, _ schema: String) throws -> [JSONObject] {
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        if inputs.count > 2_000 {
            throw HubSpotError.validation("Invalid input: \(inputs.count) inputs were sent; the limit is 2000")
        }
        return inputs
    }

    private func pairError(_ error: any Error, from: String, to: String) -> HubSpotError {
        var failure = (error as? HubSpotError) ?? .validation("\(error)")
        failure.context = ["fromId": [.string(from)], "toId": [.string(to)]]
        return failure
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/associate/default` → 200 / 207.
    mutating func batchAssociateDefault(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[1])
        let schema = "BatchInputPublicDefaultAssociationMultiPost"
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for input in try batchInputs(call, schema) {
            let fromID = try input.requiredObject("from", schema).requiredID("id", "PublicObjectId")
            let toID = try input.requiredObject("to", schema).requiredID("id", "PublicObjectId")
            do {
                let from = try liveRef(fromType, fromID)
                let to = try liveRef(toType, toID)
                let spec = associations.defaultType(from: fromType, to: toType)
                associations.add(spec, from: from, to: to)
                let inverse = associations.spec(from: toType, typeID: spec.inverseTypeID)!
                results.append(defaultResult(spec, from: from, to: to))
                results.append(defaultResult(inverse, from: to, to: from))
            } catch {
                errors.append(pairError(error, from: fromID, to: toID))
            }
        }
        return batchReply(results: results, errors: errors, startedAt: call.now)
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/create` → 201 / 207.
    mutating func batchCreateAssociations(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[1])
        let schema = "BatchInputPublicAssociationMultiPost"
        var parsed: [(String, String, [AssociationStore.TypeSpec])] = []
        for input in try batchInputs(call, schema) {
            let fromID = try input.requiredObject("from", schema).requiredID("id", "PublicObjectId")
            let toID = try input.requiredObject("to", schema).requiredID("id", "PublicObjectId")
            let specs = try input.requiredObjects("types", schema).map {
                try associationSpec($0, from: fromType, to: toType)
            }
            parsed.append((fromID, toID, specs))
        }
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for (fromID, toID, specs) in parsed {
            do {
                let from = try liveRef(fromType, fromID)
                let to = try liveRef(toType, toID)
                associate(specs, from: from, to: to)
                results.append(labelsResult(from: from, to: to))
            } catch {
                errors.append(pairError(error, from: fromID, to: toID))
            }
        }
        return batchReply(results: results, errors: errors, startedAt: call.now, successStatus: 201)
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/read` `{"inputs":[{"id"}]}` → 200 / 207.
    func batchReadAssociations(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[1])
        let schema = "BatchInputPublicFetchAssociationsBatchRequest"
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for input in try batchInputs(call, schema) {
            let raw = try input.requiredID("id", "PublicFetchAssociationsBatchRequest")
            do {
                let from = try liveRef(fromType, raw)
                let targets = associations.targets(of: from, toType: toType)
                results.append([
                    "from": ["id": .string(raw)],
                    "to": .array(
                        targets.map { target, specs in
                            ["toObjectId": .int(target.id), "associationTypes": .array(specs.map(typeJSON))]
                        }),
                ])
            } catch {
                var failure = (error as? HubSpotError) ?? .validation("\(error)")
                failure.context = ["fromIds": [.string(raw)]]
                errors.append(failure)
            }
        }
        return batchReply(results: results, errors: errors, startedAt: call.now)
    }

    /// `POST /crm/v4/associations/{from}/{to}/batch/archive` `{"inputs":[{"from":{"id"},"to":[{"id"}]}]}` → 204.
    mutating func batchArchiveAssociations(_ call: HubSpotCall) throws -> HubSpotReply {
        let fromType = try typeName(call.parameters[0])
        let toType = try typeName(call.parameters[1])
        let schema = "BatchInputPublicAssociationMultiArchive"
        for input in try batchInputs(call, schema) {
            let fromID = try input.requiredObject("from", schema).requiredID("id", "PublicObjectId")
            for target in try input.requiredObjects("to", schema) {
                let toID = try target.requiredID("id", "PublicObjectId")
                if let from = Int(fromID), let to = Int(toID) {
                    associations.remove(from: ObjectRef(type: fromType, id: from), to: ObjectRef(type: toType, id: to))
                }
            }
        }
        return .noContent
    }
}
