import Domain
import Foundation
import Ingestion

/// How group calls become HubSpot companies (`companies:` in the mapping file).
///
/// HubSpot companies have no natural unique key, so the Segment group id is stored in a custom property with unique
/// values (`segment_group_id` by default), which the sync creates and upserts by.
public struct CompanyRules: Sendable, Equatable {
    /// Whether group calls are synced to companies; default true.
    public var enabled: Bool
    /// HubSpot custom property holding the Segment group id, default "segment_group_id".
    public var groupIDProperty: String
    /// Default true: `domain` = host of traits.website (strip scheme, www., path).
    public var domainFromWebsite: Bool
    /// Group trait → company property: the defaults (`defaultProperties`) with the file's rules over them.
    public var properties: [String: PropertyRule]
    /// Whether the identified contact is associated with the company; default true.
    public var associateContact: Bool
    /// Whether a company HubSpot does not hold yet (by the group id, nor by `matchBy`) is created; default true. Off,
    /// such a company becomes a dead letter saying so (`hubsignal retry` sends it again once it exists in HubSpot).
    public var createIfNotFound: Bool
    /// The company properties that find a company HubSignal never synced (created by hand, or by HubSpot from a
    /// contact's email domain), tried in order before one is created: `domain`, `name`, or a property with unique
    /// values; default `[domain]`. The found company gets the group id property, instead of a twin being created.
    public var matchBy: [String]
    /// When HubSpot keeps a later `lifecyclestage` than the one sent (`lifecycle_backwards`; default `keep`).
    public var lifecycleBackwards: LifecycleBackwardsPolicy

    /// Segment's reserved group traits → HubSpot's standard company properties: the nested `address.*` and, as Segment's
    /// HubSpot destinations also read them, the flat `address` (a street line), `city`, `state`, `zip`/`postalCode`,
    /// `country`, and `lifecyclestage`/`lifecycle_stage`. A nested value wins over a flat one for the same property.
    public static let defaultProperties: [String: PropertyRule] = [
        "name": PropertyRule(property: "name"),
        "industry": PropertyRule(property: "industry"),
        "phone": PropertyRule(property: "phone"),
        "address.street": PropertyRule(property: "address"),
        "address.city": PropertyRule(property: "city"),
        "address.state": PropertyRule(property: "state"),
        "address.country": PropertyRule(property: "country"),
        "address.postalCode": PropertyRule(property: "zip"),
        "address.postal_code": PropertyRule(property: "zip"),
        "address.zip": PropertyRule(property: "zip"),
        "address": PropertyRule(property: "address"),
        "city": PropertyRule(property: "city"),
        "state": PropertyRule(property: "state"),
        "zip": PropertyRule(property: "zip"),
        "postalCode": PropertyRule(property: "zip"),
        "country": PropertyRule(property: "country"),
        "lifecyclestage": PropertyRule(property: "lifecyclestage"),
        "lifecycle_stage": PropertyRule(property: "lifecyclestage"),
        "employees": PropertyRule(property: "numberofemployees", type: .number),
        "description": PropertyRule(property: "description"),
        "website": PropertyRule(property: "website"),
    ]

    /// Every default.
    public static let defaults = CompanyRules()

    /// Company rules; every argument defaults to what an empty file means.
    public init(
        enabled: Bool = true, groupIDProperty: String = "segment_group_id", domainFromWebsite: Bool = true,
        properties: [String: PropertyRule] = CompanyRules.defaultProperties, associateContact: Bool = true,
        createIfNotFound: Bool = true, matchBy: [String] = ["domain"], lifecycleBackwards: LifecycleBackwardsPolicy = .keep
    ) {
        self.enabled = enabled
        self.groupIDProperty = groupIDProperty
        self.domainFromWebsite = domainFromWebsite
        self.properties = properties
        self.associateContact = associateContact
        self.createIfNotFound = createIfNotFound
        self.matchBy = matchBy
        self.lifecycleBackwards = lifecycleBackwards
    }

    /// The company's HubSpot properties from a group call: `groupIDProperty` = `groupID`, `domain` from `website` (when
    /// `domainFromWebsite` and a host can be read from it; a rule writing `domain` wins), and every trait with a rule
    /// (keys or dotted paths, converted by type as for contacts). Traits without a rule are reported in `skipped`.
    public func hubSpotProperties(groupID: String, traits: [String: JSONValue]) -> PropertyValues {
        var result = PropertyValues()
        result.set(groupIDProperty, groupID)
        let object = JSONValue.object(traits)
        var used: Set<String> = []
        var sources: [String: String] = [:]
        // Nested paths first (`address.city` wins over a flat `city`, which is reported), then in key order.
        let ordered = properties.sorted { left, right in
            let (leftNested, rightNested) = (left.key.contains("."), right.key.contains("."))
            return leftNested != rightNested ? leftNested : left.key < right.key
        }
        for (source, rule) in ordered {
            guard let value = object.value(atPath: source) else { continue }
            // The flat `address` rule takes a street line; an `address` object is read through its `address.*` rules.
            if case .object = value { continue }
            used.insert(source)
            if let earlier = sources[rule.property] {
                result.skipped[source] = "'\(rule.property)' already comes from '\(earlier)'"
                continue
            }
            sources[rule.property] = source
            guard rule.property != groupIDProperty else {
                result.skipped[source] = "'\(rule.property)' holds the group id"
                continue
            }
            switch rule.type.convert(value) {
            case .value(let text): result.set(rule.property, text)
            case .clear: result.set(rule.property, nil)
            case .failure(let reason): result.skipped[source] = "cannot convert to \(rule.type.rawValue): \(reason)"
            }
        }
        if domainFromWebsite, result.values["domain"] == nil, let website = traits["website"]?.stringValue,
            !website.trimmingCharacters(in: .whitespaces).isEmpty
        {
            if let domain = Self.domain(fromWebsite: website) {
                result.set("domain", domain)
            } else {
                result.skipped["website"] = "no domain can be read from '\(website)'"
            }
        }
        for (key, value) in traits where !used.contains(key) && !(key == "website" && result.skipped["website"] != nil) {
            if case .object(let children) = value {
                for child in children.keys where !used.contains("\(key).\(child)") {
                    result.skipped["\(key).\(child)"] = "no rule under companies.properties"
                }
            } else {
                result.skipped[key] = "no rule under companies.properties"
            }
        }
        return result
    }

    /// The host of a website address, lower-cased, without scheme, user, port, path, query or a leading `www.`:
    /// `https://www.Acme.com/about` → `acme.com`; `nil` when no host with a dot is left.
    public static func domain(fromWebsite website: String) -> String? {
        var text = Substring(website.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
        if let scheme = text.range(of: "://") {
            text = text[scheme.upperBound...]
        } else if text.hasPrefix("//") {
            text = text.dropFirst(2)
        }
        if let end = text.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { text = text[..<end] }
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        if let colon = text.lastIndex(of: ":") { text = text[..<colon] }
        while text.hasSuffix(".") { text = text.dropLast() }
        if text.hasPrefix("www.") { text = text.dropFirst(4) }
        // A DNS name has at most 253 characters; anything longer is not a domain (and could not be indexed).
        guard text.utf8.count <= 253 else { return nil }
        let host = String(text)
        guard host.contains("."), !host.hasPrefix("."), !host.contains(".."),
            host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." })
        else { return nil }
        return host
    }
}

// MARK: - Reading the mapping file

extension CompanyRules {
    static let keys = [
        "enabled", "group_id_property", "domain_from_website", "associate_contact", "create_if_not_found", "match_by",
        "lifecycle_backwards", "properties",
    ]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let flag = object["enabled"] { enabled = try flag.bool() }
        if let property = object["group_id_property"] {
            groupIDProperty = try property.nonBlankString("a HubSpot property name")
            guard Names.isValidHubSpotName(groupIDProperty) else { throw property.error(Names.hubSpotNameProblem(groupIDProperty)) }
        }
        if let flag = object["domain_from_website"] { domainFromWebsite = try flag.bool() }
        if let flag = object["associate_contact"] { associateContact = try flag.bool() }
        if let flag = object["create_if_not_found"] { createIfNotFound = try flag.bool() }
        if let fields = object["match_by"] {
            matchBy = []
            for field in try fields.list("a list of company properties: domain, name, or a property with unique values") {
                let name = try field.nonBlankString("a HubSpot company property name")
                guard Names.isValidHubSpotName(name) else { throw field.error(Names.hubSpotNameProblem(name)) }
                guard !matchBy.contains(name) else { throw field.error("'\(name)' is listed twice") }
                matchBy.append(name)
            }
        }
        if let policy = object["lifecycle_backwards"] {
            lifecycleBackwards = LifecycleBackwardsPolicy(rawValue: try policy.choice(LifecycleBackwardsPolicy.allCases.map(\.rawValue)))!
        }
        if let rules = object["properties"] {
            let explicit = try PropertyRule.readRules(rules) { Self.defaultProperties[$0]?.property }
            properties.merge(explicit) { _, new in new }
            for (source, rule) in explicit where rule.property == groupIDProperty {
                throw MappingError(
                    file: rules.file, path: Path.child(rules.path, source),
                    message: "'\(groupIDProperty)' holds the Segment group id (group_id_property); map this trait to another property",
                    line: rules.node.line)
            }
        }
    }

    var canonical: JSONValue {
        .object([
            "enabled": .bool(enabled), "group_id_property": .string(groupIDProperty),
            "domain_from_website": .bool(domainFromWebsite), "associate_contact": .bool(associateContact),
            "create_if_not_found": .bool(createIfNotFound), "match_by": .array(matchBy.map(JSONValue.string)),
            "lifecycle_backwards": .string(lifecycleBackwards.rawValue),
            "properties": PropertyRule.canonical(properties),
        ])
    }
}
