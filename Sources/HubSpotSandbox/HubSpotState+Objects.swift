import Foundation

/// CRM objects v3: `/crm/v3/objects/{objectType}` single and batch operations.
extension HubSpotState {
    /// Inputs per batch request.
    static let batchLimit = 100

    // MARK: - Helpers

    /// 400 for an id property that does not identify one object.
    func nonUnique(_ type: String, _ property: String) -> HubSpotError {
        .validation(
            "Unable to perform update/upsert by non-unique \(store(type).type.objectTypeID) property \(property) in portal ID \(portalID)")
    }

    /// Checks `idProperty` names a unique property of `type` (`nil` and `hs_object_id` mean the object id).
    func checkIDProperty(_ idProperty: String?, type: String, allowObjectID: Bool) throws {
        guard let idProperty, idProperty != "hs_object_id" else {
            if !allowObjectID { throw nonUnique(type, "hs_object_id") }
            return
        }
        guard store(type).properties[idProperty] != nil else {
            throw HubSpotError.invalidProperties([.doesNotExist(idProperty)], portalID: portalID)
        }
        guard store(type).isUnique(idProperty) else { throw nonUnique(type, idProperty) }
    }

    /// The live object named by `raw` (an object id, or a value of the unique `idProperty`).
    func locate(_ raw: String, idProperty: String?, type: String) -> Int? {
        store(type).find(property: idProperty ?? "hs_object_id", value: raw)
    }

    /// The key duplicates are detected by: emails compare case-insensitively.
    private func duplicateKey(_ id: String, idProperty: String?) -> String {
        idProperty == "email" ? id.lowercased() : id
    }

    private func checkBatchSize(_ inputs: [JSONObject]) throws {
        if inputs.count > Self.batchLimit {
            throw HubSpotError.validation(
                "Invalid input: \(inputs.count) inputs were sent; a batch request accepts at most \(Self.batchLimit) inputs")
        }
    }

    private func checkDuplicates(_ ids: [String]) throws {
        var seen: Set<String> = []
        var duplicates: [String] = []
        for id in ids where !seen.insert(id).inserted && !duplicates.contains(id) {
            duplicates.append(id)
        }
        if !duplicates.isEmpty {
            throw HubSpotError.validation(
                "Duplicate IDs found in batch input: [\(duplicates.joined(separator: ", "))]. IDs must be unique")
        }
    }

    /// A per-record error with the input it belongs to in `context`.
    private func recordError(_ error: any Error, id: String?, traceID: String?) -> HubSpotError {
        var failure = (error as? HubSpotError) ?? .validation("\(error)")
        var context = failure.context ?? [:]
        if let id { context["ids"] = [.string(id)] }
        if let traceID { context["objectWriteTraceId"] = [.string(traceID)] }
        failure.context = context
        return failure
    }

    private func objectNotFound(_ type: String, ids: [String]) -> HubSpotError {
        var error = HubSpotError.notFound(
            "Could not get some \(store(type).type.messageName) objects, they may be deleted or not exist. Check that ids are valid.")
        error.context = ["ids": .array(ids.map(JSON.string))]
        return error
    }

    /// Names in `?associations=` resolved to store names (unknown ones are ignored, as HubSpot does).
    private func associationTypes(_ call: HubSpotCall) -> [String]? {
        call.list("associations")?.compactMap { try? typeName($0) }
    }

    // MARK: - Single object

    /// `POST /crm/v3/objects/{type}` → 201.
    mutating func createObject(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let body = try call.object("SimplePublicObjectInputForCreate")
        let map = try body.stringMap("properties", "SimplePublicObjectInputForCreate", required: true) ?? [:]
        let links = try parseCreateAssociations(body, type: type)
        try checkWritable([map], type: type)
        let values = try normalize(map, type: type)
        try checkRequired(values, type: type)
        try checkUnique(values, type: type, excluding: nil)
        let id = insert(values, type: type, now: call.now)
        for (spec, target) in links {
            associations.add(spec, from: ObjectRef(type: type, id: id), to: target)
        }
        return .json(json(store(type).records[id]!, properties: nil, allValues: true), status: 201)
    }

    /// Properties an object type needs on create (notes need `hs_timestamp`).
    func checkRequired(_ values: [String: String?], type: String) throws {
        if type == "notes", (values["hs_timestamp"] ?? nil) == nil {
            throw HubSpotError.invalidProperties(
                [PropertyProblem(name: "hs_timestamp", error: "REQUIRED_PROPERTY", message: "hs_timestamp is required")],
                portalID: portalID)
        }
    }

    /// `GET /crm/v3/objects/{type}/{id}` (`?idProperty=`, `?properties=`, `?associations=`, `?archived=`).
    func getObject(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let idProperty = call.query["idProperty"]
        try checkIDProperty(idProperty, type: type, allowObjectID: true)
        let record: HubSpotRecord?
        if try call.flag("archived") {
            record = Int(call.parameters[1]).flatMap { store(type).records[$0] }.flatMap { $0.archived ? $0 : nil }
        } else {
            record = locate(call.parameters[1], idProperty: idProperty, type: type).flatMap { store(type).live($0) }
        }
        guard let record else { throw HubSpotError.notFound() }
        return .json(json(record, properties: call.list("properties"), associationsTo: associationTypes(call)))
    }

    /// `values` without a `lifecyclestage` earlier (in the property's option order) than the object's current one:
    /// HubSpot does not move the lifecycle stage backwards. It answers success and keeps the later stage; an earlier
    /// stage is taken only once the value has been cleared (`""`) by an earlier request (HubSpot's contacts API
    /// reference, "Lifecycle Stage"; docs/hubspot-sync.md).
    func keepingLaterLifecycleStage(_ values: [String: String?], type: String, id: Int) -> [String: String?] {
        let name = "lifecyclestage"
        guard let new = values[name] ?? nil, !new.isEmpty, let current = store(type).records[id]?.properties[name],
            !current.isEmpty, let options = store(type).properties[name]?.options,
            let newOrder = options.first(where: { $0.value == new })?.displayOrder,
            let currentOrder = options.first(where: { $0.value == current })?.displayOrder, newOrder < currentOrder
        else { return values }
        var kept = values
        kept.removeValue(forKey: name)
        return kept
    }

    /// `PATCH /crm/v3/objects/{type}/{id}` (`?idProperty=`).
    mutating func updateObject(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let idProperty = call.query["idProperty"]
        try checkIDProperty(idProperty, type: type, allowObjectID: true)
        let body = try call.object("SimplePublicObjectInput")
        let map = try body.stringMap("properties", "SimplePublicObjectInput", required: true) ?? [:]
        guard let id = locate(call.parameters[1], idProperty: idProperty, type: type) else {
            throw HubSpotError.notFound()
        }
        try checkWritable([map], type: type)
        let values = try normalize(map, type: type)
        try checkUnique(values, type: type, excluding: id)
        apply(keepingLaterLifecycleStage(values, type: type, id: id), type: type, id: id, now: call.now)
        return .json(json(store(type).records[id]!, properties: nil, allValues: true))
    }

    /// `DELETE /crm/v3/objects/{type}/{id}` → 204 (also when already archived).
    mutating func archiveObject(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        if let id = Int(call.parameters[1]) {
            archive(type: type, id: id, now: call.now)
        }
        return .noContent
    }

    /// `GET /crm/v3/objects/{type}?limit&after&properties&associations&archived`.
    func listObjects(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let limit = try call.integer("limit") ?? 10
        guard (1...100).contains(limit) else {
            throw HubSpotError.validation("Invalid query parameter limit: \(limit) is not between 1 and 100")
        }
        let after = try call.integer("after") ?? 0
        let archived = try call.flag("archived")
        let matching = store(type).records.keys.sorted()
            .filter { $0 >= after }
            .compactMap { store(type).records[$0] }
            .filter { $0.archived == archived }
        let page = matching.prefix(limit)
        var object: JSONObject = [
            "results": .array(
                page.map { json($0, properties: call.list("properties"), associationsTo: associationTypes(call)) })
        ]
        if matching.count > limit, let next = matching.dropFirst(limit).first {
            object["paging"] = ["next": ["after": .string(next.id), "link": .string("?after=\(next.id)")]]
        }
        return .json(.object(object))
    }

    /// `POST /crm/v3/objects/contacts/gdpr-delete` `{"objectId","idProperty"}` → 204: removes the contact for good.
    mutating func gdprDelete(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let body = try call.object("PublicGdprDeleteInput")
        let raw = try body.requiredID("objectId", "PublicGdprDeleteInput")
        let idProperty = try body.optionalString("idProperty", "PublicGdprDeleteInput")
        try checkIDProperty(idProperty, type: type, allowObjectID: true)
        guard let id = locate(raw, idProperty: idProperty, type: type) else { throw HubSpotError.notFound() }
        associations.removeAll(involving: ObjectRef(type: type, id: id))
        stores[type]!.delete(id)
        forgetSearchVersions(type: type, id: id)
        return .noContent
    }

    /// `POST /crm/v3/objects/{type}/merge` `{"primaryObjectId","objectIdToMerge"}` → 200 with the primary object.
    /// The primary keeps its values; blank ones are filled from the merged object, whose associations move to the
    /// primary; the merged object is archived.
    mutating func mergeObjects(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let schema = "PublicMergeInput"
        let body = try call.object(schema)
        let primaryRaw = try body.requiredID("primaryObjectId", schema)
        let mergedRaw = try body.requiredID("objectIdToMerge", schema)
        guard primaryRaw != mergedRaw else {
            throw HubSpotError.validation("Cannot merge \(store(type).type.singular) \(primaryRaw) into itself")
        }
        guard let primaryID = Int(primaryRaw), let primary = store(type).live(primaryID) else {
            throw HubSpotError.notFound("\(store(type).type.messageName) \(primaryRaw) does not exist")
        }
        guard let mergedID = Int(mergedRaw), let merged = store(type).live(mergedID) else {
            throw HubSpotError.notFound("\(store(type).type.messageName) \(mergedRaw) does not exist")
        }
        let system = Set(store(type).type.systemProperties)
        var values: [String: String?] = [:]
        for (name, value) in merged.properties where primary.properties[name] == nil && !system.contains(name) {
            // Unique values move with the merge: the merged object is archived below, before they are applied.
            values[name] = value
        }
        let mergedRef = ObjectRef(type: type, id: mergedID)
        let primaryRef = ObjectRef(type: type, id: primaryID)
        let moved = associations.targets(of: mergedRef, toType: nil)
        archive(type: type, id: mergedID, now: call.now)
        apply(values, type: type, id: primaryID, now: call.now)
        for (target, specs) in moved where target != primaryRef {
            for spec in specs { associations.add(spec, from: primaryRef, to: target) }
        }
        return .json(json(store(type).records[primaryID]!, properties: nil, allValues: true))
    }

    // MARK: - Batch

    /// `POST …/batch/create` → 201 / 207 (`objectWriteTraceId` names inputs in errors; results do not echo it).
    mutating func batchCreate(_ call: HubSpotCall) throws -> HubSpotReply {
        let startedAt = call.now
        let type = try typeName(call.parameters[0])
        let schema = "BatchInputSimplePublicObjectInputForCreate"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        try checkBatchSize(inputs)
        var parsed: [(map: [String: String], links: [(AssociationStore.TypeSpec, ObjectRef)], trace: String?)] = []
        for input in inputs {
            let item = "SimplePublicObjectInputForCreate"
            parsed.append(
                (
                    try input.stringMap("properties", item, required: true) ?? [:],
                    try parseCreateAssociations(input, type: type),
                    try input.optionalString("objectWriteTraceId", item)
                ))
        }
        try checkWritable(parsed.map(\.map), type: type)
        // Unique values: taken ones refuse the whole batch (the first is reported); repeated ones are duplicates.
        let uniqueNames = store(type).properties.keys.filter { store(type).isUnique($0) }.sorted()
        for name in uniqueNames {
            var values: [String] = []
            for entry in parsed {
                guard let raw = entry.map[name], !raw.isEmpty else { continue }
                let value = name == "email" ? raw.lowercased() : raw
                if store(type).find(property: name, value: value) != nil {
                    try checkUnique([name: value], type: type, excluding: nil)
                }
                values.append(value)
            }
            try checkDuplicates(values)
        }
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for entry in parsed {
            do {
                let values = try normalize(entry.map, type: type)
                try checkRequired(values, type: type)
                try checkUnique(values, type: type, excluding: nil)
                let id = insert(values, type: type, now: call.now)
                for (spec, target) in entry.links {
                    associations.add(spec, from: ObjectRef(type: type, id: id), to: target)
                }
                results.append(json(store(type).records[id]!, properties: nil, allValues: true))
            } catch {
                errors.append(recordError(error, id: nil, traceID: entry.trace))
            }
        }
        return batchReply(results: results, errors: errors, startedAt: startedAt, successStatus: 201)
    }

    /// `POST …/batch/read` (`?archived=`) → 200 / 207 (missing ids in `errors`).
    func batchRead(_ call: HubSpotCall) throws -> HubSpotReply {
        let startedAt = call.now
        let type = try typeName(call.parameters[0])
        let schema = "BatchReadInputSimplePublicObjectId"
        let body = try call.object(schema)
        let inputs = try body.requiredObjects("inputs", schema)
        try checkBatchSize(inputs)
        let idProperty = try body.optionalString("idProperty", schema)
        try checkIDProperty(idProperty, type: type, allowObjectID: true)
        let properties = try body.optionalStrings("properties", schema)
        let archived = try call.flag("archived")
        var results: [JSON] = []
        var missing: [String] = []
        for input in inputs {
            let raw = try input.requiredID("id", "SimplePublicObjectId")
            let record: HubSpotRecord?
            if archived {
                record = Int(raw).flatMap { store(type).records[$0] }.flatMap { $0.archived ? $0 : nil }
            } else {
                record = locate(raw, idProperty: idProperty, type: type).flatMap { store(type).live($0) }
            }
            if let record {
                results.append(json(record, properties: properties))
            } else {
                missing.append(raw)
            }
        }
        let errors = missing.isEmpty ? [] : [objectNotFound(type, ids: missing)]
        return batchReply(results: results, errors: errors, startedAt: startedAt)
    }

    /// `POST …/batch/update` → 200 / 207. `idProperty` must be a unique property other than `email`.
    mutating func batchUpdate(_ call: HubSpotCall) throws -> HubSpotReply {
        let startedAt = call.now
        let type = try typeName(call.parameters[0])
        let schema = "BatchInputSimplePublicObjectBatchInput"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        try checkBatchSize(inputs)
        var parsed: [(id: String, idProperty: String?, map: [String: String], trace: String?)] = []
        for input in inputs {
            let item = "SimplePublicObjectBatchInput"
            let idProperty = try input.optionalString("idProperty", item)
            if idProperty == "email" {
                throw HubSpotError.validation(
                    "Batch update by email is not supported: use batch/upsert with idProperty email, or PATCH "
                        + "/crm/v3/objects/\(call.parameters[0])/{email}?idProperty=email")
            }
            try checkIDProperty(idProperty, type: type, allowObjectID: true)
            parsed.append(
                (
                    try input.requiredID("id", item), idProperty, try input.stringMap("properties", item, required: true) ?? [:],
                    try input.optionalString("objectWriteTraceId", item)
                ))
        }
        try checkDuplicates(parsed.map(\.id))
        try checkWritable(parsed.map(\.map), type: type)
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        var missing: [String] = []
        for entry in parsed {
            guard let id = locate(entry.id, idProperty: entry.idProperty, type: type) else {
                missing.append(entry.id)
                continue
            }
            do {
                let values = try normalize(entry.map, type: type)
                try checkUnique(values, type: type, excluding: id)
                apply(keepingLaterLifecycleStage(values, type: type, id: id), type: type, id: id, now: call.now)
                results.append(json(store(type).records[id]!, properties: nil, allValues: true))
            } catch {
                errors.append(recordError(error, id: entry.id, traceID: entry.trace))
            }
        }
        if !missing.isEmpty { errors.append(objectNotFound(type, ids: missing)) }
        return batchReply(results: results, errors: errors, startedAt: startedAt)
    }

    /// `POST …/batch/upsert` → 200 / 207, each result with `new` and the properties the input wrote, last input first;
    /// results are not attributed by `objectWriteTraceId` (it names inputs only in the `context` of their errors).
    mutating func batchUpsert(_ call: HubSpotCall) throws -> HubSpotReply {
        let startedAt = call.now
        let type = try typeName(call.parameters[0])
        let schema = "BatchInputSimplePublicObjectBatchInputUpsert"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        try checkBatchSize(inputs)
        var parsed: [(id: String, idProperty: String, map: [String: String], trace: String?)] = []
        for input in inputs {
            let item = "SimplePublicObjectBatchInputUpsert"
            let id = try input.requiredID("id", item)
            let idProperty = try input.optionalString("idProperty", item)
            try checkIDProperty(idProperty, type: type, allowObjectID: false)
            parsed.append(
                (
                    id, idProperty!, try input.stringMap("properties", item, required: true) ?? [:],
                    try input.optionalString("objectWriteTraceId", item)
                ))
        }
        try checkDuplicates(parsed.map { duplicateKey($0.id, idProperty: $0.idProperty) })
        try checkWritable(parsed.map(\.map), type: type)
        var results: [JSON] = []
        var errors: [HubSpotError] = []
        for entry in parsed {
            do {
                var map = entry.map
                map[entry.idProperty] = entry.id
                let values = try normalize(map, type: type)
                // The answer holds the properties the input wrote (and HubSpot's own: hs_object_id, create and
                // modification dates): not the id property unless it was written, and no objectWriteTraceId. The spec
                // (SimplePublicUpsertObject) promises neither, so a client must not depend on them.
                let written = Array(entry.map.keys)
                if let id = locate(entry.id, idProperty: entry.idProperty, type: type) {
                    try checkUnique(values, type: type, excluding: id)
                    apply(keepingLaterLifecycleStage(values, type: type, id: id), type: type, id: id, now: call.now)
                    results.append(json(store(type).records[id]!, properties: written, new: false))
                } else {
                    try checkRequired(values, type: type)
                    try checkUnique(values, type: type, excluding: nil)
                    let id = insert(values, type: type, now: call.now)
                    results.append(json(store(type).records[id]!, properties: written, new: true))
                }
            } catch {
                errors.append(recordError(error, id: entry.id, traceID: entry.trace))
            }
        }
        // HubSpot promises no order of results (hubspot-api-nodejs#190): the sandbox answers them last input first, so a
        // client that attributes by position fails here as it would against HubSpot.
        results.reverse()
        return batchReply(results: results, errors: errors, startedAt: startedAt)
    }

    /// `POST …/batch/archive` `{"inputs":[{"id"}]}` → 204.
    mutating func batchArchive(_ call: HubSpotCall) throws -> HubSpotReply {
        let type = try typeName(call.parameters[0])
        let schema = "BatchInputSimplePublicObjectId"
        let inputs = try call.object(schema).requiredObjects("inputs", schema)
        try checkBatchSize(inputs)
        let ids = try inputs.map { try $0.requiredID("id", "SimplePublicObjectId") }
        try checkDuplicates(ids)
        for raw in ids {
            if let id = Int(raw) { archive(type: type, id: id, now: call.now) }
        }
        return .noContent
    }
}
