import Foundation

/// What tests read and seed directly, without HTTP.
extension HubSpotSandbox {
    // MARK: - Objects

    /// The live contact with this email (case-insensitive).
    public func contact(email: String) -> HubSpotRecord? {
        box.withLock { state in
            state.store("contacts").find(property: "email", value: email).flatMap { state.store("contacts").live($0) }
        }
    }

    /// The live contact with this id.
    public func contact(id: String) -> HubSpotRecord? {
        object(ofType: "contacts", id: id)
    }

    /// Every live contact, by ascending id.
    public func contacts() -> [HubSpotRecord] {
        objects(ofType: "contacts")
    }

    /// The live company with this id.
    public func company(id: String) -> HubSpotRecord? {
        object(ofType: "companies", id: id)
    }

    /// Every live company, by ascending id.
    public func companies() -> [HubSpotRecord] {
        objects(ofType: "companies")
    }

    /// Every live object of a type (`contacts`, `companies`, `notes`, a custom object's name, `0-1`, `p…_name`, …),
    /// by ascending id; empty for an unknown type.
    public func objects(ofType objectType: String) -> [HubSpotRecord] {
        box.withLock { state in
            guard let name = try? state.typeName(objectType) else { return [] }
            return state.store(name).liveRecords
        }
    }

    /// The live object of a type with this id.
    public func object(ofType objectType: String, id: String) -> HubSpotRecord? {
        box.withLock { state in
            guard let name = try? state.typeName(objectType), let id = Int(id) else { return nil }
            return state.store(name).live(id)
        }
    }

    /// The object including archived ones (to check an archive happened).
    public func anyObject(ofType objectType: String, id: String) -> HubSpotRecord? {
        box.withLock { state in
            guard let name = try? state.typeName(objectType), let id = Int(id) else { return nil }
            return state.store(name).records[id]
        }
    }

    /// Creates an object directly, with the API's checks (known writable properties, value types, unique values),
    /// and returns it.
    @discardableResult
    public func seedObject(ofType objectType: String, properties: [String: String], at date: Date = Date()) throws -> HubSpotRecord {
        try box.withLock { state in
            let name = try state.typeName(objectType)
            try state.checkWritable([properties], type: name)
            let values = try state.normalize(properties, type: name)
            try state.checkUnique(values, type: name, excluding: nil)
            let id = state.insert(values, type: name, now: date)
            return state.store(name).records[id]!
        }
    }

    // MARK: - Associations

    /// The associations from an object (to every type, or to `toObjectType` only), by target.
    public func associations(from objectType: String, id: String, to toObjectType: String? = nil) -> [HubSpotAssociation] {
        box.withLock { state in
            guard let from = try? state.typeName(objectType), let id = Int(id) else { return [] }
            let to = toObjectType.flatMap { try? state.typeName($0) }
            if toObjectType != nil && to == nil { return [] }
            return state.associations.targets(of: ObjectRef(type: from, id: id), toType: to).map { target, specs in
                HubSpotAssociation(
                    toObjectType: target.type, toObjectID: String(target.id),
                    types: specs.map { .init(category: $0.category, typeID: $0.typeID, label: $0.label) })
            }
        }
    }

    /// The live notes associated with a contact, by ascending id.
    public func notes(forContact contactID: String) -> [HubSpotRecord] {
        box.withLock { state in
            guard let id = Int(contactID) else { return [] }
            return state.associations.targets(of: ObjectRef(type: "contacts", id: id), toType: "notes")
                .compactMap { state.store("notes").live($0.0.id) }
        }
    }

    // MARK: - Properties and types

    /// The property definitions of an object type, in creation order.
    public func properties(of objectType: String) -> [HubSpotProperty] {
        box.withLock { state in
            guard let name = try? state.typeName(objectType) else { return [] }
            return state.store(name).orderedProperties
        }
    }

    /// Adds (or replaces) a property definition, as if created through the properties API. The group is created
    /// when missing.
    public func defineProperty(_ property: HubSpotProperty, on objectType: String) throws {
        try box.withLock { state in
            let name = try state.typeName(objectType)
            var property = property
            if property.groupName.isEmpty { property.groupName = state.store(name).groups.first?.name ?? "information" }
            if !state.store(name).groups.contains(where: { $0.name == property.groupName }) {
                state.stores[name]!.groups.append(HubSpotPropertyGroup(name: property.groupName, label: property.groupName))
            }
            state.stores[name]!.define(property)
        }
    }

    /// Defines a custom object type, reachable as `/crm/v3/objects/{name}`, `…/{fullyQualifiedName}` and
    /// `…/{objectTypeID}`; properties in `uniqueProperties` get `hasUniqueValue` (upserts go by them).
    public func defineCustomObject(
        name: String, fullyQualifiedName: String? = nil, objectTypeID: String, properties: [HubSpotProperty],
        uniqueProperties: Set<String> = []
    ) {
        box.withLock { state in
            state.defineCustomObject(
                name: name, fullyQualifiedName: fullyQualifiedName ?? "p\(configuration.portalID)_\(name)",
                objectTypeID: objectTypeID, properties: properties, uniqueProperties: uniqueProperties)
        }
    }

    // MARK: - Events and automation

    /// Custom event occurrences received (repeated `uuid`s dropped), oldest first.
    public func behavioralEvents() -> [BehavioralEventRecord] {
        box.withLock { $0.behavioralEvents }
    }

    /// Custom event definitions, by name.
    public func eventDefinitions() -> [BehavioralEventDefinition] {
        box.withLock { $0.eventDefinitions.values.sorted { $0.name < $1.name } }
    }

    /// Adds a custom event definition (`pe{portalID}_{name}`) whose occurrences may carry `propertyNames`.
    @discardableResult
    public func defineBehavioralEvent(name: String, label: String? = nil, propertyNames: [String] = []) -> BehavioralEventDefinition {
        box.withLock { state in
            let definition = BehavioralEventDefinition(
                name: name, label: label ?? name, portalID: state.portalID, propertyNames: propertyNames,
                id: String(state.nextObjectID))
            state.nextObjectID += 1
            state.eventDefinitions[definition.fullyQualifiedName] = definition
            return definition
        }
    }

    /// Timeline events received (the last write per id), in order of first arrival.
    public func timelineEvents() -> [TimelineEventRecord] {
        box.withLock { $0.timelineEvents }
    }

    /// Adds a timeline event template events may refer to.
    public func defineTimelineTemplate(_ template: TimelineTemplate) {
        box.withLock { $0.timelineTemplates[template.id] = template }
    }

    /// Workflow-action callback completions received, oldest first.
    public func callbackCompletions() -> [CallbackCompletionRecord] {
        box.withLock { $0.callbackCompletions }
    }

    /// Custom workflow action definitions created, oldest first, each as last updated.
    public func actionDefinitions() -> [ActionDefinitionRecord] {
        box.withLock { $0.actionDefinitions }
    }

    // MARK: - Rate limits

    /// How many requests were answered 429 (any policy).
    public var rateLimitedResponses: Int {
        limiter.limitedCount
    }

    /// Requests counted against today's budget.
    public var dailyRequestsUsed: Int {
        limiter.dailyUsed
    }

    /// Forgets counted requests, so the window, the search limit and the daily budget are full again.
    public func resetRateLimits() {
        limiter.reset()
    }
}
