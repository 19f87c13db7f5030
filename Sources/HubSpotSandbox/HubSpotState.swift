import Foundation

/// Everything the sandbox stores. A value type, always used inside the sandbox's lock; handlers are synchronous.
struct HubSpotState: Sendable {
    let portalID: Int
    /// Stores by object type name (`contacts`, `companies`, `notes`, custom names).
    var stores: [String: ObjectStore] = [:]
    /// Association types and the associations themselves.
    var associations = AssociationStore()
    var behavioralEvents: [BehavioralEventRecord] = []
    var behavioralEventUUIDs: Set<String> = []
    var timelineEvents: [TimelineEventRecord] = []
    var timelineTemplates: [String: TimelineTemplate] = [:]
    var eventDefinitions: [String: BehavioralEventDefinition] = [:]
    /// Whether `/events/v3/send` refuses events without a definition.
    var requireEventDefinitions = true
    var callbackCompletions: [CallbackCompletionRecord] = []
    var actionDefinitions: [ActionDefinitionRecord] = []
    /// Seconds a write takes to show in search (0: at once).
    var searchIndexingDelay: TimeInterval = 0
    /// Object versions by type and id, kept while search lags behind writes.
    var searchVersions: [String: [Int: [HubSpotRecord]]] = [:]
    /// The next object id; ids are shared by every object type, so an id never names two objects.
    var nextObjectID = 1001
    var nextActionID = 5001

    init(portalID: Int) {
        self.portalID = portalID
        for (type, properties) in [
            (HubSpotObjectType.contacts, DefaultProperties.contacts), (.companies, DefaultProperties.companies),
            (.notes, DefaultProperties.notes),
        ] {
            stores[type.name] = ObjectStore(type: type, properties: properties, groups: DefaultProperties.groups(for: type))
        }
    }

    /// A timestamp for a write at `now`, truncated to milliseconds (as HubSpot stores them).
    func timestamp(_ now: Date) -> Date {
        Date(timeIntervalSince1970: (now.timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    // MARK: - Object types

    /// The store name for a path's object type (`contacts`, `contact`, `0-1`, `p123_cars`, `2-123`, …).
    func typeName(_ raw: String) throws -> String {
        let wanted = raw.lowercased()
        if let store = stores.values.first(where: { $0.type.aliases.contains(wanted) }) {
            return store.type.name
        }
        throw HubSpotError.validation("Unable to infer object type from: \(raw)")
    }

    func store(_ name: String) -> ObjectStore {
        stores[name]!
    }

    /// Adds a custom object type with its properties; association types to contacts, companies and notes are created.
    mutating func defineCustomObject(
        name: String, fullyQualifiedName: String, objectTypeID: String, properties: [HubSpotProperty],
        uniqueProperties: Set<String>
    ) {
        let type = HubSpotObjectType.custom(
            name: name, fullyQualifiedName: fullyQualifiedName, objectTypeID: objectTypeID,
            queryProperties: properties.filter { $0.type == .string }.map(\.name))
        let taken = stores.values.filter { $0.type.name != name }.flatMap(\.type.aliases)
        precondition(
            type.aliases.isDisjoint(with: taken),
            "custom object \(name) (\(fullyQualifiedName), \(objectTypeID)) reuses the name or id of another object type")
        var all = properties.map { property in
            var property = property
            if uniqueProperties.contains(property.name) { property.hasUniqueValue = true }
            if property.groupName.isEmpty { property.groupName = "\(name)_information" }
            return property
        }
        all += DefaultProperties.system(type, group: "\(name)_information")
        stores[name] = ObjectStore(type: type, properties: all, groups: DefaultProperties.groups(for: type))
        for other in ["contacts", "companies", "notes"] {
            _ = associations.defaultType(from: name, to: other)
        }
    }

    // MARK: - Writing objects

    /// Checks a batch's property maps for problems that reject the whole request: unknown and read-only properties.
    func checkWritable(_ maps: [[String: String]], type: String) throws {
        let store = store(type)
        var problems: [PropertyProblem] = []
        var seen: Set<String> = []
        for map in maps {
            for name in map.keys.sorted() where !seen.contains(name) {
                if let property = store.properties[name] {
                    if property.readOnlyValue {
                        problems.append(.readOnly(name))
                        seen.insert(name)
                    }
                } else {
                    problems.append(.doesNotExist(name))
                    seen.insert(name)
                }
            }
        }
        if !problems.isEmpty {
            throw HubSpotError.invalidProperties(problems, portalID: portalID)
        }
    }

    /// Validates and normalizes one object's values; `nil` values clear. Throws a per-record 400 listing every bad
    /// value.
    func normalize(_ map: [String: String], type: String) throws -> [String: String?] {
        let store = store(type)
        var values: [String: String?] = [:]
        var problems: [PropertyProblem] = []
        for name in map.keys.sorted() {
            let raw = map[name]!
            guard let property = store.properties[name] else {
                problems.append(.doesNotExist(name))
                continue
            }
            if property.readOnlyValue {
                problems.append(.readOnly(name))
                continue
            }
            if raw.isEmpty {
                values[name] = .some(nil)
                continue
            }
            switch property.normalize(raw) {
            case .success(let value): values[name] = value
            case .failure(let problem): problems.append(problem)
            }
        }
        if !problems.isEmpty {
            throw HubSpotError.invalidProperties(problems, portalID: portalID)
        }
        return values
    }

    /// Refuses values that would make a unique property (contact email, `hasUniqueValue`) name two objects.
    func checkUnique(_ values: [String: String?], type: String, excluding id: Int?) throws {
        let store = store(type)
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            guard let value, store.isUnique(name), let existing = store.find(property: name, value: value), existing != id
            else { continue }
            if type == "contacts" && name == "email" {
                throw HubSpotError.conflict("Contact already exists. Existing ID: \(existing)")
            }
            throw HubSpotError.conflict(
                "A \(store.type.singular) with the unique value \"\(value)\" for property \"\(name)\" already exists. Existing ID: \(existing)")
        }
    }

    /// Creates an object from normalized values (already checked) and returns its id.
    mutating func insert(_ values: [String: String?], type: String, now: Date) -> Int {
        let id = nextObjectID
        nextObjectID += 1
        let time = timestamp(now)
        let objectType = store(type).type
        var properties: [String: String] = [:]
        for (name, value) in values {
            if let value { properties[name] = value }
        }
        properties["hs_object_id"] = String(id)
        properties[objectType.createdateProperty] = HubSpotTime.iso(time)
        properties[objectType.lastModifiedProperty] = HubSpotTime.iso(time)
        stores[type]!.put(
            HubSpotRecord(
                objectType: type, id: String(id), properties: properties, createdAt: time, updatedAt: time, archived: false,
                archivedAt: nil))
        recordSearchVersion(type: type, id: id, now: now)
        return id
    }

    /// Applies normalized values to an existing object.
    mutating func apply(_ values: [String: String?], type: String, id: Int, now: Date) {
        let time = timestamp(now)
        let objectType = store(type).type
        guard var record = stores[type]!.records[id] else { return }
        for (name, value) in values {
            record.properties[name] = value
        }
        record.updatedAt = time
        record.properties[objectType.lastModifiedProperty] = HubSpotTime.iso(time)
        stores[type]!.put(record)
        recordSearchVersion(type: type, id: id, now: now)
    }

    /// Archives an object and removes its associations.
    mutating func archive(type: String, id: Int, now: Date) {
        guard var record = stores[type]!.records[id], !record.archived else { return }
        record.archived = true
        record.archivedAt = timestamp(now)
        stores[type]!.put(record)
        recordSearchVersion(type: type, id: id, now: now)
        associations.removeAll(involving: ObjectRef(type: type, id: id))
    }

    // MARK: - Responses

    /// The object as the API returns it. `properties` names the properties to show (with `null` for unset ones);
    /// `nil` shows the type's default set for reads, or every set value for writes (`allValues`). A batch write's
    /// `objectWriteTraceId` is echoed.
    func json(
        _ record: HubSpotRecord, properties requested: [String]?, allValues: Bool = false, new: Bool? = nil,
        associationsTo: [String]? = nil, objectWriteTraceId: String? = nil
    ) -> JSON {
        let store = store(record.objectType)
        var shown: JSONObject = [:]
        if allValues {
            for name in record.properties.keys.sorted() { shown[name] = .string(record.properties[name]!) }
        } else {
            let names = (requested ?? store.type.defaultReadProperties ?? record.properties.keys.sorted())
            for name in Set(names + store.type.systemProperties).sorted() {
                shown[name] = record.properties[name].json
            }
        }
        var object: JSONObject = ["id": .string(record.id), "properties": .object(shown)]
        object["createdAt"] = .string(HubSpotTime.iso(record.createdAt))
        object["updatedAt"] = .string(HubSpotTime.iso(record.updatedAt))
        object["archived"] = .bool(record.archived)
        if let archivedAt = record.archivedAt { object["archivedAt"] = .string(HubSpotTime.iso(archivedAt)) }
        if let new { object["new"] = .bool(new) }
        if let objectWriteTraceId { object["objectWriteTraceId"] = .string(objectWriteTraceId) }
        if let associationsTo, !associationsTo.isEmpty {
            object["associations"] = v3Associations(of: record, to: associationsTo)
        }
        return .object(object)
    }

    /// A batch answer: 200 (or `successStatus`) with `results`, or 207 with `numErrors`/`errors` too.
    func batchReply(results: [JSON], errors: [HubSpotError], startedAt: Date, successStatus: Int = 200) -> HubSpotReply {
        var object: JSONObject = ["status": "COMPLETE", "results": .array(results)]
        if !errors.isEmpty {
            object["numErrors"] = .int(errors.count)
            object["errors"] = .array(errors.map(\.standardError))
        }
        object["startedAt"] = .string(HubSpotTime.iso(startedAt))
        object["completedAt"] = .string(HubSpotTime.iso(Date()))
        return .json(.object(object), status: errors.isEmpty ? successStatus : 207)
    }
}

extension HubSpotState {
    /// Whether `name` matches `^[a-z][a-z0-9_]*$` (property, group and event property names).
    static func isLowerSnakeCase(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
