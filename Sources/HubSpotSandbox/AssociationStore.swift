/// An object named by its type (store name) and id.
struct ObjectRef: Hashable, Sendable {
    let type: String
    let id: Int
}

/// Association types between object types, and the associations between objects (both directions are stored).
struct AssociationStore: Sendable {
    /// One association type from one object type to another, with the type of the opposite direction.
    struct TypeSpec: Sendable, Hashable {
        let from: String
        let to: String
        let typeID: Int
        let category: String
        let label: String?
        let inverseTypeID: Int
    }

    /// Known types by (from type, type id).
    private(set) var specs: [String: [Int: TypeSpec]] = [:]
    /// The unlabelled default type id by "from|to".
    private var defaults: [String: Int] = [:]
    /// Associations: from → to → types (in the order added).
    private(set) var links: [ObjectRef: [ObjectRef: [TypeSpec]]] = [:]
    private var nextTypeID = 1_000

    init() {
        register(from: "contacts", to: "companies", typeID: 279, inverse: 280, label: nil, isDefault: true)
        register(from: "contacts", to: "companies", typeID: 1, inverse: 2, label: "Primary", isDefault: false)
        register(from: "notes", to: "contacts", typeID: 202, inverse: 201, label: nil, isDefault: true)
        register(from: "notes", to: "companies", typeID: 190, inverse: 189, label: nil, isDefault: true)
        register(from: "contacts", to: "contacts", typeID: 449, inverse: 449, label: nil, isDefault: true)
        register(from: "companies", to: "companies", typeID: 450, inverse: 450, label: nil, isDefault: true)
    }

    /// Registers a type and its inverse.
    mutating func register(
        from: String, to: String, typeID: Int, inverse: Int, label: String?, isDefault: Bool,
        category: String = "HUBSPOT_DEFINED"
    ) {
        let forward = TypeSpec(from: from, to: to, typeID: typeID, category: category, label: label, inverseTypeID: inverse)
        let backward = TypeSpec(from: to, to: from, typeID: inverse, category: category, label: label, inverseTypeID: typeID)
        specs[from, default: [:]][typeID] = forward
        specs[to, default: [:]][inverse] = backward
        if isDefault {
            defaults["\(from)|\(to)"] = typeID
            defaults["\(to)|\(from)"] = inverse
        }
    }

    /// The unlabelled type from `from` to `to`, created when the pair has none yet.
    mutating func defaultType(from: String, to: String) -> TypeSpec {
        if let id = defaults["\(from)|\(to)"], let spec = specs[from]?[id] { return spec }
        let forward = nextTypeID
        let inverse = from == to ? forward : forward + 1
        nextTypeID += 2
        register(from: from, to: to, typeID: forward, inverse: inverse, label: nil, isDefault: true)
        return specs[from]![forward]!
    }

    /// Every type from `from` to `to`, by type id.
    func specs(from: String, to: String) -> [TypeSpec] {
        (specs[from] ?? [:]).values.filter { $0.to == to }.sorted { $0.typeID < $1.typeID }
    }

    /// Adds a user-defined label between two object types (and its inverse, labelled `inverseLabel` or the same);
    /// returns both types.
    mutating func addLabel(from: String, to: String, label: String, inverseLabel: String?) -> (TypeSpec, TypeSpec) {
        let forward = nextTypeID
        let inverse = forward + 1
        nextTypeID += 2
        let forwardSpec = TypeSpec(
            from: from, to: to, typeID: forward, category: "USER_DEFINED", label: label, inverseTypeID: inverse)
        let inverseSpec = TypeSpec(
            from: to, to: from, typeID: inverse, category: "USER_DEFINED", label: inverseLabel ?? label,
            inverseTypeID: forward)
        specs[from, default: [:]][forward] = forwardSpec
        specs[to, default: [:]][inverse] = inverseSpec
        return (forwardSpec, inverseSpec)
    }

    /// The type with this id from `from` (to any type).
    func spec(from: String, typeID: Int) -> TypeSpec? {
        specs[from]?[typeID]
    }

    /// Associates two objects with a type (and its inverse). Returns whether it was new.
    @discardableResult
    mutating func add(_ spec: TypeSpec, from: ObjectRef, to: ObjectRef) -> Bool {
        let inverse = specs[spec.to]![spec.inverseTypeID]!
        var added = false
        if !(links[from]?[to]?.contains(spec) ?? false) {
            links[from, default: [:]][to, default: []].append(spec)
            added = true
        }
        if !(links[to]?[from]?.contains(inverse) ?? false) {
            links[to, default: [:]][from, default: []].append(inverse)
        }
        return added
    }

    /// Removes every association between two objects, both directions.
    mutating func remove(from: ObjectRef, to: ObjectRef) {
        links[from]?[to] = nil
        links[to]?[from] = nil
    }

    /// Removes one type (and its inverse) between two objects.
    mutating func remove(_ spec: TypeSpec, from: ObjectRef, to: ObjectRef) {
        links[from]?[to]?.removeAll { $0 == spec }
        if links[from]?[to]?.isEmpty == true { links[from]?[to] = nil }
        links[to]?[from]?.removeAll { $0.typeID == spec.inverseTypeID }
        if links[to]?[from]?.isEmpty == true { links[to]?[from] = nil }
    }

    /// Removes every association of an object.
    mutating func removeAll(involving object: ObjectRef) {
        for other in (links[object] ?? [:]).keys {
            links[other]?[object] = nil
        }
        links[object] = nil
    }

    /// The associations from an object to objects of `toType` (every type when `nil`), by ascending target id.
    func targets(of object: ObjectRef, toType: String?) -> [(ObjectRef, [TypeSpec])] {
        (links[object] ?? [:])
            .filter { toType == nil || $0.key.type == toType }
            .sorted { ($0.key.type, $0.key.id) < ($1.key.type, $1.key.id) }
            .map { ($0.key, $0.value) }
    }
}
