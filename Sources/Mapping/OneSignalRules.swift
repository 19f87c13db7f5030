import Domain
import Foundation
import Ingestion

/// How contacts become OneSignal users and their data tags (`onesignal:` in the mapping file).
public struct OneSignalRules: Sendable, Equatable {
    /// How contacts match OneSignal users.
    public enum Matching: String, Sendable, CaseIterable {
        /// The OneSignal external id is the Segment `userId` (the default, as Segment's OneSignal destination does).
        case externalID = "external_id"
        /// Users are found by their email subscription.
        case email
    }

    /// What the sync does with a contact whose external id no OneSignal user has.
    public enum UnmatchedUsers: String, Sendable, CaseIterable {
        /// Create the user (the default): HubSignal's contacts become OneSignal users.
        case create
        /// Leave it out, as Segment's OneSignal destination does: only users the app's SDK (or another source) created
        /// get tags; the push is a dead letter saying so, tried again on the contact's next change.
        case skip
    }

    /// A OneSignal subscription HubSignal can create from a contact's traits with its user.
    public enum TraitSubscription: String, Sendable, CaseIterable, Comparable {
        /// `traits.email` becomes an `Email` subscription.
        case email
        /// `traits.phone`, in E.164 form (`+` and digits, spaces, dashes, dots and brackets left out), becomes an `SMS`
        /// subscription.
        case sms

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The E.164 form OneSignal requires of an SMS subscription's token: `+`, a country code not starting with 0,
        /// 7 to 15 digits in all, with spaces, dashes, dots and brackets left out; `nil` for anything else (a number
        /// without its `+` and country code cannot be told from a local one).
        public static func smsToken(fromPhone text: String) -> String? {
            let kept = text.trimmingCharacters(in: .whitespaces).filter { !" -.()".contains($0) }
            guard kept.first == "+" else { return nil }
            let digits = kept.dropFirst()
            guard (7...15).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0" else { return nil }
            return kept
        }
    }

    /// What happens to nested objects, which OneSignal does not accept as tag values.
    public enum NestedValues: Sendable, Equatable {
        /// Leave them out (the default).
        case drop
        /// One tag per nested value, named by joining the keys with `separator` (`address_city`).
        case flatten(separator: String)
    }

    /// How contacts match OneSignal users; default `externalID` (external id = Segment `userId`).
    public var matchBy: Matching
    /// The HubSpot contact property whose value is the contact's OneSignal external id (`external_id_property`;
    /// default none). With it, a contact HubSignal knows only from HubSpot (no Segment `userId`) matches the OneSignal
    /// user with that external id; a contact without a value falls back to `matchBy`. HubSignal subscribes to the
    /// property's changes (`hubsignal hubspot app`).
    public var externalIDProperty: String?
    /// Which identify traits become tags; default all.
    public var traits: TagSelection
    /// Which track properties become tags; default none.
    public var trackProperties: TagSelection
    /// Source key → tag name; the defaults (`firstName` → `first_name`, `lastName` → `last_name`) plus the file's.
    public var renames: [String: String]
    /// Nested objects: dropped (default) or flattened.
    public var nested: NestedValues
    /// The plan's per-user tag limit; default 10. OneSignal's plans allow 2 (Free), 10 (Growth) or 100 (Professional)
    /// tags per user (onesignal.md §5); over the limit OneSignal refuses the whole update.
    public var tagLimit: Int
    /// Which OneSignal apps get a contact's tags; default all configured apps.
    public var apps: AppRouting
    /// Tags that the tag limit keeps first, in this order (`tag_priority`); then audience tags, then the rest by name.
    public var priority: [String]
    /// Whether a workflow's push to a contact without a OneSignal external id goes to the push subscriptions of the
    /// OneSignal user whose email subscription is the contact's email (`push_by_email`; OneSignal's `email` filter, the
    /// second way OneSignal's HubSpot app matches users); default `false`.
    public var pushByEmail = false
    /// Whether a contact OneSignal has no user for gets one (`unmatched_users`); default `create`.
    public var unmatchedUsers: UnmatchedUsers = .create
    /// The subscriptions created from traits when HubSignal creates a contact's user (`subscriptions`); default none.
    /// Later changes of the email or phone are not sent: OneSignal's SDKs own subscriptions once they exist.
    public var traitSubscriptions: Set<TraitSubscription> = []

    /// The renames that apply without a file: Segment's OneSignal destination's `firstName` → `first_name`, `lastName` → `last_name`.
    public static let defaultRenames = ["firstName": "first_name", "lastName": "last_name"]

    /// Every default.
    public static let defaults = OneSignalRules()

    /// OneSignal rules; every argument defaults to what an empty file means.
    public init(
        matchBy: Matching = .externalID, traits: TagSelection = .all, trackProperties: TagSelection = .none,
        renames: [String: String] = OneSignalRules.defaultRenames, nested: NestedValues = .drop, tagLimit: Int = 10,
        apps: AppRouting = .all, priority: [String] = [], externalIDProperty: String? = nil
    ) {
        self.matchBy = matchBy
        self.externalIDProperty = externalIDProperty
        self.traits = traits
        self.trackProperties = trackProperties
        self.renames = renames
        self.nested = nested
        self.tagLimit = tagLimit
        self.apps = apps
        self.priority = priority
    }

    /// Tags for a contact from its traits (and, when `trackProperties` selects them, a track event's properties).
    ///
    /// - Tag names are the source key or its rename; track properties win over traits with the same tag name.
    /// - Nested objects are dropped or flattened (`address_city`); lists are always dropped (OneSignal tags hold one value).
    /// - `email` and `phone` (any case, also nested) are never tags: OneSignal keeps them as email and SMS subscriptions.
    /// - OneSignal's reserved names (`message`, `user`, `app`, …) are dropped.
    /// - `null` or blank → `nil` (remove the tag); other values as strings: numbers in their shortest form (`42`,
    ///   `3.5`, `3.0` → `3`), booleans `true`/`false`, ISO 8601 date-times as unix seconds (`2024-05-01T10:00:00Z` →
    ///   `1714557600`, what OneSignal's time operators compare); other strings as they are.
    /// - With `applyingLimit`, at most `tagLimit` tags with a value, in budget order (`priority`, then by name); the
    ///   rest are reported in `dropped` as over the limit. Removals always pass and do not count.
    ///
    /// `dropped` maps the source key (dotted for nested values) to the reason. Keys that the selection leaves out are
    /// not reported.
    public func tags(
        traits: [String: JSONValue], trackProperties: [String: JSONValue] = [:], applyingLimit: Bool = true
    ) -> TagSet {
        var result = TagSet()
        var candidates: [String: (source: String, isTrackProperty: Bool, value: String?)] = [:]

        func add(_ source: String, tag: String, value: JSONValue, isTrackProperty: Bool) {
            if Names.lastComponent(of: source, is: "email") {
                result.dropped[source] = "email is a OneSignal email subscription, not a tag"
                return
            }
            if Names.lastComponent(of: source, is: "phone") {
                result.dropped[source] = "phone is a OneSignal SMS subscription, not a tag"
                return
            }
            switch value {
            case .object(let children):
                guard case .flatten(let separator) = nested else {
                    result.dropped[source] = "a nested object; OneSignal tags hold plain values (set nested: { flatten: \"_\" } to flatten it)"
                    return
                }
                for (key, child) in children.sorted(by: { $0.key < $1.key }) {
                    add("\(source).\(key)", tag: "\(tag)\(separator)\(key)", value: child, isTrackProperty: isTrackProperty)
                }
                return
            case .array:
                result.dropped[source] = "a list; OneSignal tags hold one plain value"
                return
            default:
                break
            }
            if let problem = Names.tagNameProblem(tag) {
                result.dropped[source] = problem
                return
            }
            if let earlier = candidates[tag] {
                let origin = earlier.isTrackProperty ? "the track property" : "the trait"
                result.dropped[source] = "tag '\(tag)' already comes from \(origin) '\(earlier.source)'"
                return
            }
            candidates[tag] = (source, isTrackProperty, value.isNullOrBlank ? nil : Self.tagValue(value))
        }

        for (key, value) in trackProperties.sorted(by: { $0.key < $1.key }) where self.trackProperties.includes(key) {
            add(key, tag: renames[key] ?? key, value: value, isTrackProperty: true)
        }
        for (key, value) in traits.sorted(by: { $0.key < $1.key }) where self.traits.includes(key) {
            add(key, tag: renames[key] ?? key, value: value, isTrackProperty: false)
        }

        var kept = 0
        for tag in budgetOrder(candidates.keys) {
            let (source, _, value) = candidates[tag]!
            if value != nil {
                guard kept < tagLimit || !applyingLimit else {
                    result.dropped[source] = "over the tag limit of \(tagLimit) (tag '\(tag)')"
                    continue
                }
                kept += 1
            }
            result.tags.updateValue(value, forKey: tag)
        }
        return result
    }
}

extension OneSignalRules {
    /// The order in which the tag limit keeps tags: those in `priority` (in its order), then those in `preferred` (by
    /// name; e.g. audience tags), then the rest by name.
    public func budgetOrder(_ tags: some Collection<String>, preferred: Set<String> = []) -> [String] {
        let rank = Dictionary(priority.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        return tags.sorted { lhs, rhs in
            let left = (rank[lhs] ?? Int.max, preferred.contains(lhs) ? 0 : 1, lhs)
            let right = (rank[rhs] ?? Int.max, preferred.contains(rhs) ? 0 : 1, rhs)
            return left < right
        }
    }

    /// A plain value as a tag value (see `tags(traits:trackProperties:applyingLimit:)`).
    public static func tagValue(_ value: JSONValue) -> String? {
        if case .string(let text) = value, text.count >= 20, text.count <= 40, text.contains("T"),
            text.first?.isASCIIDigit == true, let date = ISO8601Timestamp.parse(text)
        {
            return String(Int64(date.timeIntervalSince1970.rounded(.down)))
        }
        return value.scalarText
    }
}

/// Which keys become tags.
public enum TagSelection: Sendable, Equatable {
    case all
    case none
    /// Exactly these source keys (before renaming); the file's list is kept sorted, without duplicates.
    case only([String])

    /// Whether `key` is selected.
    public func includes(_ key: String) -> Bool {
        switch self {
        case .all: return true
        case .none: return false
        case .only(let keys): return keys.contains(key)
        }
    }
}

/// OneSignal tags for a user, with what was left out.
public struct TagSet: Sendable, Equatable {
    /// Tag name → value; `nil` removes the tag (sent to OneSignal as `""`).
    public var tags: [String: String?]
    /// Source key → why it is not a tag (nested, email/phone, reserved name, over the tag limit, …).
    public var dropped: [String: String]

    /// Tags and what was dropped.
    public init(tags: [String: String?] = [:], dropped: [String: String] = [:]) {
        self.tags = tags
        self.dropped = dropped
    }
}

// MARK: - Reading the mapping file

extension OneSignalRules {
    static let keys = [
        "match_by", "traits", "track_properties", "renames", "nested", "tag_limit", "apps", "tag_priority", "external_id_property",
        "unmatched_users", "subscriptions", "push_by_email",
    ]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let match = object["match_by"] {
            matchBy = Matching(rawValue: try match.choice(Matching.allCases.map(\.rawValue)))!
        }
        if let selection = object["traits"] { traits = try TagSelection(reading: selection) }
        if let selection = object["track_properties"] { trackProperties = try TagSelection(reading: selection) }
        if let renameValue = object["renames"] {
            for (source, target) in try renameValue.entries("a mapping of source keys to tag names") {
                let tag = try target.nonBlankString("a tag name")
                if let problem = Names.tagNameProblem(tag) { throw target.error(problem) }
                renames[source] = tag
            }
        }
        if let nestedValue = object["nested"] {
            if case .mapping = nestedValue.node.kind {
                let flatten = try nestedValue.object(keys: ["flatten"], hint: "drop, flatten, or { flatten: \"_\" }")
                let separator = try flatten.required("flatten", "the separator between keys, e.g. { flatten: \"_\" }")
                    .string("a separator such as \"_\"")
                guard !separator.isEmpty else { throw flatten.value.error("the separator cannot be empty; use e.g. \"_\"") }
                nested = .flatten(separator: separator)
            } else {
                nested = try nestedValue.choice(["drop", "flatten"]) == "drop" ? .drop : .flatten(separator: "_")
            }
        }
        if let limit = object["tag_limit"] {
            tagLimit = try limit.int()
            guard tagLimit > 0 else {
                throw limit.error("the tag limit must be at least 1 (OneSignal plans: Free 2, Growth 10, Professional 100)")
            }
        }
        if let routing = object["apps"] { apps = try AppRouting(reading: routing) }
        if let property = object["external_id_property"] {
            let name = try property.nonBlankString("a HubSpot contact property name")
            guard Names.isValidHubSpotName(name) else {
                throw MappingError(file: property.file, path: property.path, message: Names.hubSpotNameProblem(name), line: property.node.line)
            }
            externalIDProperty = name
        }
        if let value = object["push_by_email"] { pushByEmail = try value.bool() }
        if let value = object["unmatched_users"] {
            unmatchedUsers = UnmatchedUsers(rawValue: try value.choice(UnmatchedUsers.allCases.map(\.rawValue)))!
        }
        if let list = object["subscriptions"] {
            for item in try list.list("a list of subscription kinds such as [email, sms]") {
                traitSubscriptions.insert(TraitSubscription(rawValue: try item.choice(TraitSubscription.allCases.map(\.rawValue)))!)
            }
        }
        if let list = object["tag_priority"] {
            var seen: Set<String> = []
            priority = try list.stringList("tag names, most important first").filter { seen.insert($0).inserted }
        }
    }

    var canonical: JSONValue {
        let nestedValue: JSONValue
        switch nested {
        case .drop: nestedValue = .string("drop")
        case .flatten(let separator): nestedValue = .object(["flatten": .string(separator)])
        }
        var object: [String: JSONValue] = [
            "match_by": .string(matchBy.rawValue), "traits": traits.canonical, "track_properties": trackProperties.canonical,
            "renames": .object(renames.mapValues(JSONValue.string)), "nested": nestedValue, "tag_limit": .int(Int64(tagLimit)),
            "apps": apps.canonical, "tag_priority": .array(priority.map(JSONValue.string)),
        ]
        // Only when set: files without it keep their mapping version.
        if let externalIDProperty { object["external_id_property"] = .string(externalIDProperty) }
        if pushByEmail { object["push_by_email"] = .bool(true) }
        if unmatchedUsers != .create { object["unmatched_users"] = .string(unmatchedUsers.rawValue) }
        if !traitSubscriptions.isEmpty { object["subscriptions"] = .array(traitSubscriptions.sorted().map { .string($0.rawValue) }) }
        return .object(object)
    }
}

extension TagSelection {
    init(reading value: MappingValue) throws(MappingError) {
        if case .sequence = value.node.kind {
            self = .only(Array(Set(try value.stringList("keys"))).sorted())
            return
        }
        switch try value.choice(["all", "none"]) {
        case "all": self = .all
        default: self = .none
        }
    }

    var canonical: JSONValue {
        switch self {
        case .all: return .string("all")
        case .none: return .string("none")
        case .only(let keys): return .array(Set(keys).sorted().map(JSONValue.string))
        }
    }
}
