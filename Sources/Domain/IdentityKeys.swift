import Foundation

/// Which members of which events name a person or a company: the one rule the people projection resolves identities
/// by, and from which erasure and the audit trail generate their SQL.
///
/// Each rule (a family of events, or a list of types) lists its fields, most decisive first. A field's paths are
/// alternatives: the first member present gives the value. Values of `email` fields are compared normalised
/// (``normalizedEmail(_:)``), all others as they are.
public enum IdentityKeys {
    /// What a field's value is.
    public enum Name: String, Sendable, Hashable, CaseIterable {
        /// A Segment `userId` (identity kind `user_id`).
        case userID = "user_id"
        /// A Segment `anonymousId` (identity kind `anonymous_id`).
        case anonymousID = "anonymous_id"
        /// An email address (identity kind `email`).
        case email
        /// A HubSpot contact id (identity kind `hubspot_id`).
        case hubSpotID = "hubspot_id"
        /// A OneSignal user id (identity kind `onesignal_id`).
        case oneSignalID = "onesignal_id"
        /// An alias's `previousId`: a previous `userId` or `anonymousId`.
        case previousID = "previous_id"
        /// A OneSignal external id: a `userId`, an email when the mapping matches OneSignal users by email, or the value
        /// of the HubSpot contact property the mapping names (`onesignal.external_id_property`; identity kind
        /// `external_id`).
        case externalID = "external_id"
        /// HubSignal's own contact id (result events).
        case contactID = "contact_id"
        /// A Segment `groupId`: a company, not a person (company identity kind `group_id`).
        case groupID = "group_id"
    }

    /// A member of a payload, by the keys leading to it (`["context", "traits", "email"]`). A key may contain a dot
    /// (OneSignal's dotted template sends `"event.external_id"` as one key).
    public struct Path: Sendable, Hashable, CustomStringConvertible {
        public var keys: [String]
        /// Only in events of these types; `nil`: in every type of the family.
        public var types: [EventType]?

        public init(_ keys: String..., in types: [EventType]? = nil) {
            precondition(!keys.isEmpty && keys.allSatisfy { !$0.contains("'") }, "a path is one or more keys without quotes")
            self.keys = keys
            self.types = types
        }

        /// The member, or `nil` when a key on the way is absent or not an object.
        public func value(in payload: [String: JSONValue]) -> JSONValue? {
            var object = payload
            for key in keys.dropLast() {
                guard case .object(let inner)? = object[key] else { return nil }
                object = inner
            }
            return object[keys[keys.count - 1]]
        }

        /// Whether the path applies to an event of `type`.
        public func applies(to type: EventType) -> Bool { types?.contains(type) ?? true }

        /// The member as text in SQL, e.g. `payload->'traits'->>'email'` for `column` `payload`. The keys are constants of
        /// this file (no quotes, checked), never input; `column` must be trusted text too.
        public func sql(on column: String) -> String {
            var text = column
            for key in keys.dropLast() { text += "->'\(key)'" }
            return text + "->>'\(keys[keys.count - 1])'"
        }

        public var description: String { keys.joined(separator: " → ") }
    }

    /// One thing an event can name.
    public struct Field: Sendable, Hashable {
        public var name: Name
        /// Alternatives, the first present wins.
        public var paths: [Path]
        /// Whether the value is a list of ids (HubSpot's `mergedObjectIds`) rather than one.
        public var isList: Bool
        /// The field counts only when another member holds this text (HubSpot's `propertyValue` is an email when
        /// `propertyName` is `email`).
        public var condition: (path: Path, text: String)?
        /// Whether the projection resolves the person by it. `false`: the field only mentions them — erasure still
        /// redacts the event, the projection ignores it.
        public var identifies: Bool

        public init(_ name: Name, _ paths: [Path], isList: Bool = false, when condition: (path: Path, text: String)? = nil, identifies: Bool = true) {
            self.name = name
            self.paths = paths
            self.isList = isList
            self.condition = condition
            self.identifies = identifies
        }

        public static func == (lhs: Field, rhs: Field) -> Bool {
            lhs.name == rhs.name && lhs.paths == rhs.paths && lhs.isList == rhs.isList && lhs.identifies == rhs.identifies
                && lhs.condition?.path == rhs.condition?.path && lhs.condition?.text == rhs.condition?.text
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(paths)
        }

        /// The paths that apply to an event of `type`.
        public func paths(for type: EventType) -> [Path] { paths.filter { $0.applies(to: type) } }

        /// The field's values in a payload of an event of `type`: none, one, or the ids of a list. Emails come normalised
        /// (an invalid one is no value); other values are ids given as strings or whole numbers, not blank.
        public func values(in payload: [String: JSONValue], type: EventType) -> [String] {
            var values: [String] = []
            forEachValue(in: payload, type: type) { values.append($0) }
            return values
        }

        /// Calls `body` with each of the field's values, as `values(in:type:)` lists them (without building a list).
        public func forEachValue(in payload: [String: JSONValue], type: EventType, _ body: (String) -> Void) {
            if let condition, condition.path.value(in: payload)?.stringValue != condition.text { return }
            var found: JSONValue?
            for path in paths where path.applies(to: type) {
                found = path.value(in: payload)
                if found != nil { break }
            }
            guard let found else { return }
            if isList {
                for element in found.arrayValue ?? [] { if let id = element.identifierValue { body(id) } }
            } else if name == .email {
                if let email = found.stringValue.flatMap(IdentityKeys.normalizedEmail) { body(email) }
            } else if let id = found.identifierValue {
                body(id)
            }
        }
    }

    /// The fields of one group of events.
    public struct Rule: Sendable, Hashable {
        /// Which events a rule applies to.
        public enum Scope: Sendable, Hashable {
            /// Every type of the family (SQL: `starts_with(type, prefix)`).
            case family(EventType.Family)
            /// These types (SQL: `type = ANY(…)`).
            case types([EventType])
        }

        /// The events it applies to.
        public var scope: Scope
        /// Most decisive first.
        public var fields: [Field]

        /// Whether the rule applies to an event of `type`.
        public func applies(to type: EventType) -> Bool {
            switch scope {
            case .family(let family): return type.belongs(to: family)
            case .types(let types): return types.contains(type)
            }
        }

        /// What an event of `type` names, field by field in the rule's order (only fields the projection resolves by
        /// when `identifying`).
        public func names(in payload: [String: JSONValue], type: EventType, identifying: Bool = true) -> [(name: Name, value: String)] {
            var found: [(name: Name, value: String)] = []
            forEachName(in: payload, type: type, identifying: identifying) { found.append(($0, $1)) }
            return found
        }

        /// Calls `body` with each name and value `names(in:type:identifying:)` lists, without building the list.
        public func forEachName(
            in payload: [String: JSONValue], type: EventType, identifying: Bool = true, _ body: (Name, String) -> Void
        ) {
            for field in fields where field.identifies || !identifying {
                field.forEachValue(in: payload, type: type) { body(field.name, $0) }
            }
        }

        /// The first value of a field named `name` in an event of `type`.
        public func first(_ name: Name, in payload: [String: JSONValue], type: EventType) -> String? {
            var value: String?
            for field in fields where field.name == name && value == nil {
                field.forEachValue(in: payload, type: type) { if value == nil { value = $0 } }
            }
            return value
        }
    }

    // MARK: - The rule

    /// Segment calls: `userId`, an email (identify `traits`, else `context.traits`), `anonymousId`; an alias's
    /// `previousId`; a group call's `groupId` (the company). An email in track `properties` is only a mention.
    public static let segment = Rule(
        scope: .family(.segment),
        fields: [
            Field(.userID, [Path("userId")]),
            Field(.email, [Path("traits", "email", in: [.identify]), Path("context", "traits", "email")]),
            Field(.anonymousID, [Path("anonymousId")]),
            Field(.previousID, [Path("previousId", in: [.alias])]),
            Field(.groupID, [Path("groupId", in: [.group])]),
            Field(.email, [Path("properties", "email")], identifies: false),
        ])

    /// HubSpot contact webhooks: the contact's id (`objectId`, or `primaryObjectId` of a merge), the ids merged into it,
    /// and the new email of an email change.
    public static let hubSpotContactWebhook = Rule(
        scope: .family(.hubSpotContactWebhook),
        fields: [
            Field(.hubSpotID, [Path("objectId"), Path("primaryObjectId")]),
            Field(.hubSpotID, [Path("mergedObjectIds")], isList: true),
            Field(.email, [Path("propertyValue")], when: (Path("propertyName"), "email")),
        ])

    /// HubSpot contact webhooks when a HubSpot contact property holds the OneSignal external id
    /// (`onesignal.external_id_property`): ``hubSpotContactWebhook`` plus the new value of that property, an external id.
    /// `nil` gives ``hubSpotContactWebhook`` itself.
    public static func hubSpotContactWebhook(externalIDProperty: String?) -> Rule {
        guard let externalIDProperty else { return hubSpotContactWebhook }
        var rule = hubSpotContactWebhook
        rule.fields.append(Field(.externalID, [Path("propertyValue")], when: (Path("propertyName"), externalIDProperty)))
        return rule
    }

    /// HubSpot workflow actions: the contact the action runs for.
    public static let hubSpotAction = Rule(
        scope: .family(.hubSpotAction),
        fields: [Field(.hubSpotID, [Path("object", "objectId")])])

    /// OneSignal event-stream deliveries, flat (`external_id`) or dotted (`event.external_id`, or nested under `event`):
    /// the external id and the OneSignal user id.
    public static let oneSignal = Rule(
        scope: .family(.oneSignal),
        fields: [
            Field(.externalID, [Path("external_id"), Path("event.external_id"), Path("event", "external_id")]),
            Field(.oneSignalID, [Path("onesignal_id"), Path("event.onesignal_id"), Path("event", "onesignal_id")]),
        ])

    /// HubSignal's own events about a person (result events): the contact, the HubSpot contact a workflow
    /// notification was for, the OneSignal external id. The projection reads these through the payload types.
    public static let hubSignal = Rule(
        scope: .types(EventType.hubSignalTypes),
        fields: [
            Field(.contactID, [Path("contactId")], identifies: false),
            Field(.hubSpotID, [Path("hubspotObjectId")], identifies: false),
            Field(.externalID, [Path("externalId")], identifies: false),
        ])

    /// Every family's rule.
    public static let rules: [Rule] = [segment, hubSpotContactWebhook, hubSpotAction, oneSignal, hubSignal]

    /// The rule for events of `type`, or `nil` when such events name nobody.
    public static func rule(for type: EventType) -> Rule? {
        rules.first { $0.applies(to: type) }
    }

    // MARK: - Emails

    /// Emails are matched case-insensitively and without surrounding white space; `nil` when it is not an email at all
    /// (no `@` between two parts, a space inside, or longer than RFC 5321's 254 bytes: kept as a trait, never as an
    /// identity).
    public static func normalizedEmail(_ raw: String) -> String? {
        let isPlain = raw.utf8.allSatisfy { $0 > 0x20 && $0 < 0x80 && !($0 >= 0x41 && $0 <= 0x5A) }
        let email = isPlain ? raw : raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard email.utf8.count <= 254, email.count >= 3, let at = email.firstIndex(of: "@"), at != email.startIndex,
            email.index(after: at) != email.endIndex, !email.contains(" ")
        else { return nil }
        return email
    }
}
