import Domain
import Foundation
import Ingestion

/// How audience membership becomes a HubSpot property and a OneSignal tag per audience (`audiences:` in the mapping file).
public struct AudienceRules: Sendable, Equatable {
    /// Where membership comes from.
    public enum Style: String, Sendable, CaseIterable {
        /// Segment Engage (Personas): identify with `context.personas.computation_class = "audience"` and a boolean trait,
        /// or track `Audience Entered` / `Audience Exited`.
        case engage
        /// Adobe AEP: a status per audience (`realized`, `existing`, `exited`).
        case aep
    }

    /// Which styles are recognised; default both.
    public var styles: Set<Style>
    /// Prefix of the HubSpot property per audience; default "" → property named after the audience key lower-cased.
    public var hubSpotPropertyPrefix: String
    /// `.bool` (default for engage) or `.status` (AEP: realized/exited as string/enumeration).
    public var hubSpotType: AudiencePropertyType
    /// Prefix of the OneSignal tag per audience; default "" → tag named after the audience key; value "true"/nil (removed) or the status.
    public var oneSignalTagPrefix: String
    /// AEP: which trait keys carry a per-audience status (or empty = any trait whose value is realized/exited).
    public var aepAudiences: [String]

    /// AEP statuses and whether each means "in the audience".
    static let aepStatuses = ["realized": true, "existing": true, "exited": false]

    /// Both styles, boolean HubSpot properties, no prefixes.
    public static let defaults = AudienceRules()

    /// Audience rules; every argument defaults to what an empty file means.
    /// Whether each audience also becomes a OneSignal segment filtered on its tag (`onesignal_segments`, default
    /// `false`; creating segments needs a paid OneSignal plan), so notifications can target the audience by name.
    public var oneSignalSegments: Bool

    public init(
        styles: Set<Style> = [.engage, .aep], hubSpotPropertyPrefix: String = "", hubSpotType: AudiencePropertyType = .bool,
        oneSignalTagPrefix: String = "", aepAudiences: [String] = [], oneSignalSegments: Bool = false
    ) {
        self.oneSignalSegments = oneSignalSegments
        self.styles = styles
        self.hubSpotPropertyPrefix = hubSpotPropertyPrefix
        self.hubSpotType = hubSpotType
        self.oneSignalTagPrefix = oneSignalTagPrefix
        self.aepAudiences = aepAudiences
    }

    /// Audience membership changes in a Segment message (JSON object as stored), sorted by audience key:
    /// - Engage identify: `context.personas.computation_class` `"audience"` (or `"account"`: a user of an account in an
    ///   account-level audience) and `traits[computation_key]` a boolean (or `"true"`/`"false"`);
    /// - Engage track: `Audience Entered` / `Audience Exited` with `properties.audience_key` (else
    ///   `context.personas.computation_key`);
    /// - AEP identify: traits whose value is `realized`, `existing` (still in) or `exited`, or an object whose `status`
    ///   is; only the keys in `aepAudiences` when it is not empty. `status` is the lower-cased AEP status.
    public func changes(in message: JSONValue) -> [AudienceChange] {
        var changes: [String: AudienceChange] = [:]
        let type = message["type"]?.stringValue
        let personas = message["context"]?["personas"]
        if styles.contains(.engage) {
            if type == "identify", ["audience", "account"].contains(personas?["computation_class"]?.stringValue ?? ""),
                let key = personas?["computation_key"]?.identifierValue,
                let member = Self.flag(message["traits"]?[key])
            {
                changes[key] = AudienceChange(audience: key, isMember: member)
            }
            if type == "track", let event = message["event"]?.stringValue,
                event == "Audience Entered" || event == "Audience Exited",
                let key = message["properties"]?["audience_key"]?.identifierValue ?? personas?["computation_key"]?.identifierValue
            {
                changes[key] = AudienceChange(audience: key, isMember: event == "Audience Entered")
            }
        }
        if styles.contains(.aep), type == "identify", let traits = message["traits"]?.objectValue {
            for (key, value) in traits where changes[key] == nil && (aepAudiences.isEmpty || aepAudiences.contains(key)) {
                let text = value.stringValue ?? value["status"]?.stringValue
                guard let status = text?.lowercased(), let member = Self.aepStatuses[status] else { continue }
                changes[key] = AudienceChange(audience: key, isMember: member, status: status)
            }
        }
        return changes.keys.sorted().map { changes[$0]! }
    }

    /// Account-level audience membership in a group call (Segment Engage account audiences: one group call per account
    /// with `traits[audience_key]` `true`, another with `false` when the account leaves; `context.personas` names the
    /// audience in `computation_key`, its `computation_class` being `audience` or `account`), sorted by audience key.
    /// Empty unless the `engage` style is on. Each becomes a company property, as a person audience becomes a contact
    /// property (`hubSpotProperty(forAudience:)`, `hubSpotValue(for:)`).
    public func accountChanges(in message: JSONValue) -> [AudienceChange] {
        guard styles.contains(.engage), message["type"]?.stringValue == "group", let personas = message["context"]?["personas"],
            let computation = personas["computation_class"]?.stringValue, computation == "audience" || computation == "account",
            let key = personas["computation_key"]?.identifierValue, let member = Self.flag(message["traits"]?[key])
        else { return [] }
        return [AudienceChange(audience: key, isMember: member)]
    }

    /// Whether `value` is a membership flag as audiences send it (`true`/`false`, or those words as text).
    public static func isMembershipFlag(_ value: JSONValue?) -> Bool {
        flag(value) != nil
    }

    private static func flag(_ value: JSONValue?) -> Bool? {
        switch value {
        case .bool(let flag)?: return flag
        case .string(let text)?:
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: return nil
            }
        default: return nil
        }
    }

    /// The HubSpot contact property for an audience: the prefix and the key lower-cased, other characters than `a-z0-9_`
    /// as `_` (`Trial Users` → `trial_users`); `audience_` in front when the result would not start with a letter.
    public func hubSpotProperty(forAudience key: String) -> String {
        let name = hubSpotPropertyPrefix + Names.slug(key, fallback: "audience")
        return Names.isValidHubSpotName(name) ? name : "audience_\(name)"
    }

    /// The OneSignal tag for an audience: the prefix and the key as is.
    public func oneSignalTag(forAudience key: String) -> String {
        oneSignalTagPrefix + key
    }

    /// The HubSpot property value for a change: `"true"`/`"false"` for `.bool`; for `.status` the AEP status, or
    /// `realized`/`exited` for Engage changes.
    public func hubSpotValue(for change: AudienceChange) -> String {
        switch hubSpotType {
        case .bool: return change.isMember ? "true" : "false"
        case .status: return change.status ?? (change.isMember ? "realized" : "exited")
        }
    }

    /// The OneSignal tag value for a change: `"true"` for members and `nil` (remove the tag) otherwise; with `.status`,
    /// the status for members.
    public func oneSignalValue(for change: AudienceChange) -> String? {
        guard change.isMember else { return nil }
        switch hubSpotType {
        case .bool: return "true"
        case .status: return change.status ?? "realized"
        }
    }
}

/// The HubSpot property type per audience.
public enum AudiencePropertyType: String, Sendable, CaseIterable {
    /// `true`/`false` (HubSpot `bool`).
    case bool
    /// The status text (`realized`, `existing`, `exited`; HubSpot `string` or `enumeration`).
    case status
}

/// A contact entering or leaving an audience.
public struct AudienceChange: Sendable, Equatable {
    /// The audience key (Engage `computation_key` / `audience_key`, or the AEP trait key).
    public var audience: String
    /// Whether the contact is in the audience after this change.
    public var isMember: Bool
    /// The AEP status (`realized`, `existing`, `exited`); `nil` for Engage.
    public var status: String?

    /// A membership change; `status` only for AEP.
    public init(audience: String, isMember: Bool, status: String? = nil) {
        self.audience = audience
        self.isMember = isMember
        self.status = status
    }
}

// MARK: - Reading the mapping file

extension AudienceRules {
    static let keys = [
        "styles", "hubspot_property_prefix", "hubspot_type", "onesignal_tag_prefix", "aep_audiences", "onesignal_segments",
    ]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let stylesValue = object["styles"] {
            var items = [stylesValue]
            if case .sequence = stylesValue.node.kind { items = try stylesValue.list("a list of styles") }
            styles = []
            for item in items { styles.insert(Style(rawValue: try item.choice(Style.allCases.map(\.rawValue)))!) }
            guard !styles.isEmpty else { throw stylesValue.error("name at least one style (engage, aep)") }
        }
        if let prefix = object["hubspot_property_prefix"] {
            hubSpotPropertyPrefix = try prefix.string("a property name prefix such as aud_")
            guard hubSpotPropertyPrefix.isEmpty || Names.isValidHubSpotName(hubSpotPropertyPrefix) else {
                throw prefix.error(Names.hubSpotNameProblem(hubSpotPropertyPrefix))
            }
        }
        if let type = object["hubspot_type"] {
            hubSpotType = AudiencePropertyType(rawValue: try type.choice(AudiencePropertyType.allCases.map(\.rawValue)))!
        }
        if let prefix = object["onesignal_tag_prefix"] {
            oneSignalTagPrefix = try prefix.string("a tag name prefix such as aud_")
        }
        if let audiences = object["aep_audiences"] { aepAudiences = try audiences.stringList("trait keys") }
        if let segments = object["onesignal_segments"] { oneSignalSegments = try segments.bool() }
    }

    var canonical: JSONValue {
        .object([
            "styles": .array(styles.map(\.rawValue).sorted().map(JSONValue.string)),
            "hubspot_property_prefix": .string(hubSpotPropertyPrefix), "hubspot_type": .string(hubSpotType.rawValue),
            "onesignal_tag_prefix": .string(oneSignalTagPrefix),
            "aep_audiences": .array(aepAudiences.sorted().map(JSONValue.string)), "onesignal_segments": .bool(oneSignalSegments),
        ])
    }
}
