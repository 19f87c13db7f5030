import Domain
import Ingestion

/// How Segment traits become HubSpot contact properties (`contacts:` in the mapping file).
public struct ContactRules: Sendable, Equatable {
    /// Explicit trait → HubSpot property rules (trait key as sent by Segment, e.g. "firstName", or a dotted path "address.city").
    public var properties: [String: PropertyRule]
    /// Traits without a rule: `existing` (default: sent when the property exists in the account), `drop`, or `create`
    /// (the property is created in HubSpot by the sync; name from the default conversion).
    public var unknownTraits: UnknownTraitPolicy
    /// When HubSpot keeps a later `lifecyclestage` than the one sent (`lifecycle_backwards`; default `keep`).
    public var lifecycleBackwards: LifecycleBackwardsPolicy
    /// Contact properties with unique values (a CRM id written by a rule, say) that find a contact HubSignal never
    /// synced before the upsert by email (`match_by`, tried in order; default none: by email only). The contact found
    /// is updated by its id, email included, instead of a twin being created.
    public var matchBy: [String]

    /// No explicit rules, unknown traits sent when their property exists.
    public static let defaults = ContactRules()

    /// Contact rules; without arguments, what an empty file means.
    public init(
        properties: [String: PropertyRule] = [:], unknownTraits: UnknownTraitPolicy = .existing,
        lifecycleBackwards: LifecycleBackwardsPolicy = .keep, matchBy: [String] = []
    ) {
        self.properties = properties
        self.unknownTraits = unknownTraits
        self.lifecycleBackwards = lifecycleBackwards
        self.matchBy = matchBy
    }

    /// The HubSpot property values derived from a contact's current traits: property name → HubSpot's string form of
    /// the value, or `nil` to clear it (trait `null` or blank).
    ///
    /// Nested objects are walked (`address.city`); a value is mapped by, in order:
    /// 1. an explicit rule for its key or dotted path, with the rule's type;
    /// 2. the default names (Segment's HubSpot conversion): `firstName`/`first_name` → `firstname`,
    ///    `lastName`/`last_name` → `lastname`, `companyName`/`company_name`/`company.name` → `company`,
    ///    `lifecycle_stage`/`lifecycleStage` → `lifecyclestage`, `title`/`jobTitle`/`job_title`/`position` → `jobtitle`
    ///    (HubSpot has no `title` contact property; Segment's destinations send `position` there), `address.street` → `address`, `address.city` → `city`, `address.state` →
    ///    `state`, `address.postalCode`/`address.postal_code`/`address.zip` → `zip`, `address.country` → `country`,
    ///    `postalCode` → `zip`; any other top-level key lower-cased with spaces → underscores (`Favorite Color` →
    ///    `favorite_color`), as `string`.
    ///
    /// With `unknownTraits: drop` only traits with a rule or whose default name is a standard HubSpot contact property
    /// (`email`, `firstname`, `phone`, `website`, `city`, …) are kept; with `existing` (the default) every trait whose
    /// default name is a valid HubSpot name is kept too, and the sync leaves out (and reports) those whose property the
    /// account does not have; with `create` the same, and properties outside the standard set are listed in
    /// `propertiesToCreate` (`string` for unknown traits, the rule's type for explicit rules). Nested values without a rule or default are
    /// skipped in both cases.
    ///
    /// Types (see `PropertyType`): `number`; `bool` as `"true"`/`"false"`; `date` as `YYYY-MM-DD` (the UTC day, which
    /// HubSpot stores as midnight UTC; hubspot.md §10); `datetime` as ISO 8601 in UTC with milliseconds — never epoch
    /// numbers, as Segment's HubSpot destination does. Values that cannot be converted are left out and reported in
    /// `skipped`. When two traits map to one property, an explicit rule beats a default and otherwise the first key in
    /// sorted order wins; the other is reported.
    public func hubSpotProperties(from traits: [String: JSONValue]) -> PropertyValues {
        var leaves: [(path: String, value: JSONValue)] = []
        collectLeaves(of: traits, prefix: "", into: &leaves)
        leaves.sort { $0.path < $1.path }

        var result = PropertyValues()
        var sources: [String: (path: String, explicit: Bool)] = [:]
        for (path, value) in leaves {
            let target: (property: String, type: PropertyType, explicit: Bool)
            if let rule = properties[path] {
                target = (rule.property, rule.type, true)
            } else if let name = ContactDefaults.property(forTraitPath: path) {
                let standard = ContactDefaults.standardProperties.contains(name)
                switch unknownTraits {
                case .drop where !standard:
                    result.skipped[path] =
                        "no rule, and '\(name)' is not a standard HubSpot contact property (unknown_traits: drop)"
                    continue
                case .create where !Names.isValidHubSpotName(name), .existing where !Names.isValidHubSpotName(name):
                    result.skipped[path] = "'\(name)' cannot be a HubSpot property name; add a rule under contacts.properties"
                    continue
                default:
                    target = (name, .string, false)
                }
            } else {
                result.skipped[path] = "a nested value without a rule; add a rule for '\(path)' under contacts.properties"
                continue
            }

            if let earlier = sources[target.property] {
                if earlier.explicit || !target.explicit {
                    result.skipped[path] = "'\(target.property)' already comes from '\(earlier.path)'"
                    continue
                }
                // An explicit rule replaces a default mapping of an earlier key.
                result.values.removeValue(forKey: target.property)
                result.skipped[earlier.path] = "'\(target.property)' comes from '\(path)', which has a rule"
            }
            switch target.type.convert(value) {
            case .value(let text): result.set(target.property, text)
            case .clear: result.set(target.property, nil)
            case .failure(let reason):
                result.skipped[path] = "cannot convert to \(target.type.rawValue): \(reason)"
                continue
            }
            sources[target.property] = (path, target.explicit)
            if unknownTraits == .create, !ContactDefaults.standardProperties.contains(target.property) {
                result.propertiesToCreate[target.property] = target.type
            }
        }
        return result
    }

    /// Flattens nested objects into dotted paths, stopping at paths that have an explicit rule.
    private func collectLeaves(of object: [String: JSONValue], prefix: String, into leaves: inout [(path: String, value: JSONValue)]) {
        for (key, value) in object {
            let path = prefix.isEmpty ? key : "\(prefix).\(key)"
            if properties[path] == nil, case .object(let children) = value, !children.isEmpty {
                collectLeaves(of: children, prefix: path, into: &leaves)
            } else {
                leaves.append((path, value))
            }
        }
    }
}

/// Segment's default trait names for HubSpot contacts and the standard HubSpot contact properties.
enum ContactDefaults {
    /// Trait keys and dotted paths with a special HubSpot name.
    static let special: [String: String] = [
        "firstName": "firstname", "first_name": "firstname",
        "lastName": "lastname", "last_name": "lastname",
        "companyName": "company", "company_name": "company", "company.name": "company",
        "lifecycle_stage": "lifecyclestage", "lifecycleStage": "lifecyclestage",
        "title": "jobtitle", "jobTitle": "jobtitle", "job_title": "jobtitle", "position": "jobtitle",
        "postalCode": "zip", "postal_code": "zip",
        "address.street": "address", "address.city": "city", "address.state": "state",
        "address.postalCode": "zip", "address.postal_code": "zip", "address.zip": "zip", "address.country": "country",
    ]

    /// Standard (HubSpot-defined) contact properties a trait may write without a rule.
    static let standardProperties: Set<String> = [
        "email", "firstname", "lastname", "phone", "mobilephone", "fax", "company", "website", "jobtitle", "address",
        "city", "state", "zip", "country", "lifecyclestage", "hs_lead_status", "industry", "annualrevenue",
        "numemployees", "salutation", "message", "hs_language", "date_of_birth", "twitterhandle", "hubspot_owner_id",
        "hs_persona", "hs_timezone", "hs_whatsapp_phone_number", "degree", "field_of_study", "school", "gender",
        "marital_status", "military_status", "relationship_status", "work_email", "seniority", "job_function",
    ]

    /// The default HubSpot name of a trait path: the special names, else (top-level keys only) Segment's
    /// lower-casing conversion; `nil` for other nested paths.
    static func property(forTraitPath path: String) -> String? {
        if let name = special[path] { return name }
        guard !path.contains(".") else { return nil }
        return Names.segmentDefault(path)
    }
}

// MARK: - Reading the mapping file

extension ContactRules {
    static let keys = ["unknown_traits", "lifecycle_backwards", "match_by", "properties"]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let policy = object["unknown_traits"] {
            unknownTraits = UnknownTraitPolicy(rawValue: try policy.choice(UnknownTraitPolicy.allCases.map(\.rawValue)))!
        }
        if let policy = object["lifecycle_backwards"] {
            lifecycleBackwards = LifecycleBackwardsPolicy(rawValue: try policy.choice(LifecycleBackwardsPolicy.allCases.map(\.rawValue)))!
        }
        if let fields = object["match_by"] {
            for field in try fields.list("a list of contact properties with unique values") {
                let name = try field.nonBlankString("a HubSpot contact property name")
                guard Names.isValidHubSpotName(name) else { throw field.error(Names.hubSpotNameProblem(name)) }
                guard name != "email" else { throw field.error("'email' is always used (the upsert is by email); list other unique properties") }
                guard !matchBy.contains(name) else { throw field.error("'\(name)' is listed twice") }
                matchBy.append(name)
            }
        }
        if let rules = object["properties"] {
            properties = try PropertyRule.readRules(rules, defaultProperty: ContactDefaults.property(forTraitPath:))
        }
    }

    var canonical: JSONValue {
        var object: [String: JSONValue] = [
            "properties": PropertyRule.canonical(properties), "unknown_traits": .string(unknownTraits.rawValue),
            "lifecycle_backwards": .string(lifecycleBackwards.rawValue),
        ]
        // Only when set: files without it keep their mapping version.
        if !matchBy.isEmpty { object["match_by"] = .array(matchBy.map(JSONValue.string)) }
        return .object(object)
    }
}

extension PropertyRule {
    /// Reads `source: property` or `source: { property: name, type: date }` pairs. `defaultProperty` names the property
    /// when the long form leaves it out (`nil`: the property is required).
    static func readRules(
        _ value: MappingValue, defaultProperty: (String) -> String?
    ) throws(MappingError) -> [String: PropertyRule] {
        var rules: [String: PropertyRule] = [:]
        for (source, ruleValue) in try value.entries("a mapping of source keys to HubSpot property names") {
            guard !source.isEmpty else { throw ruleValue.error("the source key cannot be empty") }
            rules[source] = try read(ruleValue, defaultProperty: defaultProperty(source))
        }
        return rules
    }

    static func read(_ value: MappingValue, defaultProperty: String?) throws(MappingError) -> PropertyRule {
        let property: String
        var type = PropertyType.string
        var propertyValue = value
        if case .mapping = value.node.kind {
            let object = try value.object(keys: ["property", "type"])
            if let typeValue = object["type"] {
                type = PropertyType(rawValue: try typeValue.choice(PropertyType.allCases.map(\.rawValue)))!
            }
            if let named = object["property"] {
                propertyValue = named
                property = try named.nonBlankString("a HubSpot property name")
            } else if let defaultProperty {
                property = defaultProperty
            } else {
                throw value.error("missing 'property': the HubSpot property to write, e.g. { property: plan_tier, type: string }")
            }
        } else {
            property = try value.nonBlankString("a HubSpot property name, or { property: name, type: string }")
        }
        guard Names.isValidHubSpotName(property) else { throw propertyValue.error(Names.hubSpotNameProblem(property)) }
        return PropertyRule(property: property, type: type)
    }

    static func canonical(_ rules: [String: PropertyRule]) -> JSONValue {
        .object(rules.mapValues { .object(["property": .string($0.property), "type": .string($0.type.rawValue)]) })
    }
}
