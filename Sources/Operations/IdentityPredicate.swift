import Domain
import PQ

/// SQL conditions "this names one of the person's identities", generated from `IdentityKeys` (the rule the people
/// projection resolves identities by): the text holds only Domain's constant member names, every identity and event
/// type is a bind parameter. Comparisons with an empty list of identities are left out (they could never hold).
struct IdentityPredicate {
    /// The person's identities, by what they are.
    struct Identities {
        var userIDs: [String] = []
        var anonymousIDs: [String] = []
        /// Normalised (`IdentityKeys.normalizedEmail`); members are compared with `lower(btrim(…))`.
        var emails: [String] = []
        var hubSpotIDs: [String] = []
        var oneSignalIDs: [String] = []
        var contactIDs: [String] = []
        /// OneSignal external ids other than emails (emails are matched through `emails`).
        var externalIDs: [String] = []

        /// The streams events about the person are appended on, without repeats: Segment calls on `user:<userId>` or
        /// `anonymous:<anonymousId>` (`user:<anonymousId>` before an identify), OneSignal events on `user:<external id>`
        /// (a userId or an email) or `onesignal-user:<id>`, HubSpot contact webhooks and workflow actions on
        /// `hubspot-contact:<id>`, HubSignal's results on `contact:<contactId>` or `hubspot-contact:<id>`.
        var streams: [String] {
            var streams = contactIDs.map { "contact:" + $0 }
            streams += (userIDs + anonymousIDs + emails + externalIDs).map { "user:" + $0 }
            streams += anonymousIDs.map { "anonymous:" + $0 }
            streams += hubSpotIDs.map { "hubspot-contact:" + $0 }
            streams += oneSignalIDs.map { "onesignal-user:" + $0 }
            var seen = Set<String>()
            return streams.filter { seen.insert($0).inserted }
        }

        /// Every value a member of an event can be compared with (`mentions`, `streams` aside), without repeats.
        var values: [String] {
            var seen = Set<String>()
            return (userIDs + anonymousIDs + emails + hubSpotIDs + oneSignalIDs + contactIDs + externalIDs).filter { seen.insert($0).inserted }
        }

        /// The values a member naming `name` is compared with as it is.
        func ids(_ name: IdentityKeys.Name) -> [String] {
            switch name {
            case .userID: return userIDs
            case .anonymousID: return anonymousIDs
            case .email, .groupID: return []
            case .hubSpotID: return hubSpotIDs
            case .oneSignalID: return oneSignalIDs
            case .previousID: return userIDs + anonymousIDs
            case .externalID: return externalIDs
            case .contactID: return contactIDs
            }
        }
    }

    /// Whether a member naming `name` can hold an email (a OneSignal external id is one when the mapping matches users
    /// by email); such members are also compared normalised with the emails.
    static func canBeEmail(_ name: IdentityKeys.Name) -> Bool { name == .email || name == .externalID }

    /// "The JSON document `column` mentions the person": any member any rule reads (companies aside), at each of its
    /// paths, whatever the event's type — erasure errs on the side of erasing, and a rejected message has no type.
    /// `column` is trusted text.
    static func mentions(in column: String, _ identities: Identities) -> PQQuery {
        var seen: Set<String> = []
        var clauses: [PQQuery] = []
        for rule in IdentityKeys.rules {
            for field in rule.fields where field.name != .groupID {
                for path in field.paths {
                    let key = "\(field.name) \(path.keys) \(field.isList) \(field.condition.map { "\($0.path.keys)=\($0.text)" } ?? "")"
                    guard seen.insert(key).inserted,
                        let clause = match(field, member: { PQQuery(unsafeSQL: $0 ? json(path, in: column) : path.sql(on: column)) }, in: column, identities)
                    else { continue }
                    clauses.append(clause)
                }
            }
        }
        return any(clauses)
    }

    /// "The event may mention the person, or name one of `positions`": its `hubsignal_event_mentions(payload)`
    /// (migration 0022; the GIN index `events_mentions`) shares a key with their identities or with the positions.
    /// A superset of `mentions(in: "payload", …)` and of HubSignal's results naming those positions (`position`): the
    /// exact predicate must still check each event it finds.
    static func mayMention(_ identities: Identities, positions: [Int64] = []) -> PQQuery {
        "hubsignal_event_mentions(payload) && hubsignal_mention_keys(\(identities.values)::text[], \(positions)::bigint[])"
    }

    /// "The event names the person", as the projection reads events: each rule for its own types (`type`), each field
    /// by its first present path (a path kept to some types only counts in those), over the event's `payload`. Only the
    /// fields the projection identifies people by, plus `mentionsOf`'s rules whole; `narrowing` adds a condition to a rule.
    static func names(
        _ identities: Identities, mentionsOf mentioned: [IdentityKeys.Rule] = [], narrowing: [IdentityKeys.Rule: PQQuery] = [:]
    ) -> PQQuery {
        var rules: [PQQuery] = []
        for rule in IdentityKeys.rules {
            var clauses: [PQQuery] = []
            for field in rule.fields where field.name != .groupID && (field.identifies || mentioned.contains(rule)) {
                let member = { (asJSON: Bool) -> PQQuery in
                    let paths: [PQQuery] = field.paths.map { path in
                        let access = asJSON ? json(path, in: "payload") : path.sql(on: "payload")
                        guard let types = path.types?.map(\.rawValue).sorted() else { return PQQuery(unsafeSQL: access) }
                        return types.count == 1
                            ? "CASE WHEN type = \(types[0]) THEN \(unsafeRaw: access) END"
                            : "CASE WHEN type = ANY(\(types)::text[]) THEN \(unsafeRaw: access) END"
                    }
                    guard paths.count > 1 else { return paths[0] }
                    var joined = paths[0]
                    for path in paths.dropFirst() { joined = "\(fragment: joined), \(fragment: path)" }
                    return "COALESCE(\(fragment: joined))"
                }
                if let clause = match(field, member: member, in: "payload", identities) { clauses.append(clause) }
            }
            guard !clauses.isEmpty else { continue }
            var scope: PQQuery
            let prefix: String
            switch rule.scope {
            case .family(let family):
                prefix = family.prefix
                scope = "starts_with(type, \(prefix))"
            case .types(let types):
                prefix = types.map(\.rawValue).reduce(types.first?.rawValue ?? "") { String(zip($0, $1).prefix { $0 == $1 }.map(\.0)) }
                scope = "starts_with(type, \(prefix)) AND type = ANY(\(types.map(\.rawValue))::text[])"
            }
            // A type starts with its source (`<source>.<subject>.<verb>`): comparing the source first passes over the
            // events of other sources at the cost of one equality.
            if let dot = prefix.firstIndex(of: "."), case let source = EventSource(rawValue: String(prefix[..<dot])),
                EventSource.all.contains(source)
            {
                scope = "source = \(source.rawValue) AND \(fragment: scope)"
            }
            let narrowed = narrowing[rule].map { " AND (\(fragment: $0))" as PQQuery } ?? ""
            rules.append("(\(fragment: scope)\(fragment: narrowed) AND \(fragment: any(clauses)))")
        }
        return any(rules)
    }

    /// The member of `field` (`member(false)` as text, `member(true)` as JSON, for lists) is one of the person's identities
    /// and the field's condition holds; `nil` when the person has no identity the field could name.
    static func match(
        _ field: IdentityKeys.Field, member: (_ asJSON: Bool) -> PQQuery, in column: String, _ identities: Identities
    ) -> PQQuery? {
        let ids = field.name == .email ? [] : identities.ids(field.name)
        let emails = canBeEmail(field.name) ? identities.emails : []
        func compared(_ value: PQQuery) -> PQQuery? {
            var comparisons: [PQQuery] = []
            if !ids.isEmpty { comparisons.append("\(fragment: value) = ANY(\(ids)::text[])") }
            if !emails.isEmpty { comparisons.append("lower(btrim(\(fragment: value))) = ANY(\(emails)::text[])") }
            return comparisons.isEmpty ? nil : any(comparisons)
        }
        var clause: PQQuery
        if field.isList {
            // A value that is not an array names nobody (and must not reach the set-returning function).
            let list = member(true)
            guard let comparison = compared("item.value") else { return nil }
            clause = """
                EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(\(fragment: list)) = 'array' THEN \(fragment: list) END)
                        AS item(value) WHERE \(fragment: comparison))
                """
        } else {
            guard let comparison = compared(member(false)) else { return nil }
            clause = comparison
        }
        if let condition = field.condition {
            clause = "(\(unsafeRaw: condition.path.sql(on: column)) = \(condition.text) AND \(fragment: clause))"
        }
        return clause
    }

    /// The member at `path` of `column` as JSON (`->` all the way), e.g. for a list.
    static func json(_ path: IdentityKeys.Path, in column: String) -> String {
        column + path.keys.map { "->'\($0)'" }.joined()
    }

    /// The clauses joined with `OR` (`false` for none).
    static func any(_ clauses: [PQQuery]) -> PQQuery {
        guard var joined = clauses.first else { return "false" }
        for clause in clauses.dropFirst() { joined = "\(fragment: joined) OR \(fragment: clause)" }
        return "(\(fragment: joined))"
    }
}
