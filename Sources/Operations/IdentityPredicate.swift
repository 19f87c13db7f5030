import Domain
import PQ

/// SQL conditions "this names one of the person's identities", generated from `IdentityKeys` (the rule the people
/// projection resolves identities by): the text holds only Domain's constant member names, every identity and event
/// type is a bind parameter, and the SQL text does not depend on the values (one prepared statement).
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

    /// "The JSON document `column` mentions the person": any member any rule reads (companies aside), whatever the
    /// event's type — erasure errs on the side of erasing, and a rejected message has no type. `column` is trusted text.
    static func mentions(in column: String, _ identities: Identities) -> PQQuery {
        var seen: Set<String> = []
        var clauses: [PQQuery] = []
        for rule in IdentityKeys.rules {
            for field in rule.fields where field.name != .groupID {
                for path in field.paths {
                    let key = "\(field.name) \(path.keys) \(field.isList) \(field.condition.map { "\($0.path.keys)=\($0.text)" } ?? "")"
                    if seen.insert(key).inserted { clauses.append(match(field, at: path, in: column, identities)) }
                }
            }
        }
        return any(clauses)
    }

    /// "The event names the person", as the projection reads events: each rule for its own types (`type`), each field
    /// through its paths (a path kept to some types only counts in those), over the event's `payload`. Only the fields
    /// the projection identifies people by, plus `mentionsOf`'s rules whole; `narrowing` adds a condition to a rule.
    static func names(
        _ identities: Identities, mentionsOf mentioned: [IdentityKeys.Rule] = [], narrowing: [IdentityKeys.Rule: PQQuery] = [:]
    ) -> PQQuery {
        var rules: [PQQuery] = []
        for rule in IdentityKeys.rules {
            var clauses: [PQQuery] = []
            for field in rule.fields where field.name != .groupID && (field.identifies || mentioned.contains(rule)) {
                for path in field.paths {
                    let clause = match(field, at: path, in: "payload", identities)
                    if let types = path.types {
                        clauses.append("(type = ANY(\(types.map(\.rawValue).sorted())::text[]) AND \(fragment: clause))")
                    } else {
                        clauses.append(clause)
                    }
                }
            }
            let scope: PQQuery =
                switch rule.scope {
                case .family(let family): "starts_with(type, \(family.prefix))"
                case .types(let types): "type = ANY(\(types.map(\.rawValue))::text[])"
                }
            let narrowed = narrowing[rule].map { " AND (\(fragment: $0))" as PQQuery } ?? ""
            rules.append("(\(fragment: scope)\(fragment: narrowed) AND \(fragment: any(clauses)))")
        }
        return any(rules)
    }

    /// The member of `field` at `path` of `column` is one of the person's identities (and the field's condition holds).
    static func match(_ field: IdentityKeys.Field, at path: IdentityKeys.Path, in column: String, _ identities: Identities) -> PQQuery {
        let ids = identities.ids(field.name)
        let compareIDs = field.name != .email
        let compareEmails = canBeEmail(field.name)
        func compared(_ value: String) -> PQQuery {
            switch (compareIDs, compareEmails) {
            case (true, true): return "(\(unsafeRaw: value) = ANY(\(ids)::text[]) OR lower(btrim(\(unsafeRaw: value))) = ANY(\(identities.emails)::text[]))"
            case (false, _): return "lower(btrim(\(unsafeRaw: value))) = ANY(\(identities.emails)::text[])"
            case (true, false): return "\(unsafeRaw: value) = ANY(\(ids)::text[])"
            }
        }
        var clause: PQQuery
        if field.isList {
            // The member as JSON; a value that is not an array names nobody (and must not reach the set function).
            let list = column + path.keys.map { "->'\($0)'" }.joined()
            clause = """
                EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(\(unsafeRaw: list)) = 'array' THEN \(unsafeRaw: list) END)
                        AS item(value) WHERE \(fragment: compared("item.value")))
                """
        } else {
            clause = compared(path.sql(on: column))
        }
        if let condition = field.condition {
            clause = "(\(unsafeRaw: condition.path.sql(on: column)) = \(condition.text) AND \(fragment: clause))"
        }
        return clause
    }

    /// The clauses joined with `OR` (`false` for none).
    static func any(_ clauses: [PQQuery]) -> PQQuery {
        guard var joined = clauses.first else { return "false" }
        for clause in clauses.dropFirst() { joined = "\(fragment: joined) OR \(fragment: clause)" }
        return "(\(fragment: joined))"
    }
}
