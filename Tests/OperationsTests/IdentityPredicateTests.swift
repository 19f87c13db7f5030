import Domain
import Foundation
@testable import Operations
import PQ
import Testing
import TestSupport

/// The SQL erasure and the audit trail match people with is generated from `IdentityKeys`: every member the rule lists
/// is found, in PostgreSQL, by what each generates — so a member added to the rule is erased and shown without
/// touching either.
@Suite struct IdentityPredicateTests {
    static let person = IdentityPredicate.Identities(
        userIDs: ["u-1"], anonymousIDs: ["a-1"], emails: ["ada@example.com"], hubSpotIDs: ["501"], oneSignalIDs: ["os-1"],
        contactIDs: ["c_1"], externalIDs: ["x-1"])

    /// What a member naming `name` holds when it names the person (emails as a sender might write them).
    static func value(naming name: IdentityKeys.Name) -> String {
        switch name {
        case .userID: return "u-1"
        case .anonymousID, .previousID: return "a-1"
        case .email: return "  Ada@Example.COM "
        case .hubSpotID: return "501"
        case .oneSignalID: return "os-1"
        case .externalID: return "x-1"
        case .contactID: return "c_1"
        case .groupID: return "g-1"
        }
    }

    /// One member of the rule, as an event carrying it.
    struct Case: CustomStringConvertible {
        var rule: IdentityKeys.Rule
        var field: IdentityKeys.Field
        var path: IdentityKeys.Path
        var type: EventType

        /// The payload with the member set to `value` (and the field's condition holding).
        func payload(_ value: String) -> JSONValue {
            var object: [String: JSONValue] = [:]
            func set(_ keys: [String], _ leaf: JSONValue, in object: inout [String: JSONValue]) {
                guard keys.count > 1 else {
                    object[keys[0]] = leaf
                    return
                }
                var inner = object[keys[0]]?.objectValue ?? [:]
                set(Array(keys.dropFirst()), leaf, in: &inner)
                object[keys[0]] = .object(inner)
            }
            set(path.keys, field.isList ? .array([.string("other"), .string(value)]) : .string(value), in: &object)
            if let condition = field.condition { set(condition.path.keys, .string(condition.text), in: &object) }
            return .object(object)
        }

        var description: String { "\(field.name) at \(path) in \(type)" }
    }

    /// Every member of every rule that names a person, with a type of the rule's events the member counts in.
    static var cases: [Case] {
        var cases: [Case] = []
        for rule in IdentityKeys.rules {
            for field in rule.fields where field.name != .groupID {
                for path in field.paths {
                    let type: EventType
                    if let types = path.types {
                        type = types.sorted()[0]
                    } else {
                        switch rule.scope {
                        case .family(let family): type = EventType(rawValue: family.prefix + "test")
                        case .types(let types): type = types[0]
                        }
                    }
                    cases.append(Case(rule: rule, field: field, path: path, type: type))
                }
            }
        }
        return cases
    }

    /// Evaluates `condition` for one event (`type`, its `source` as the type's first part, `payload`), as a `WHERE` clause
    /// does (`NULL`, of absent members, is false).
    static func holds(_ condition: PQQuery, type: EventType, payload: JSONValue, on client: PQClient) async throws -> Bool {
        let text = String(decoding: try payload.serialized(), as: UTF8.self)
        let rows = try await client.query(
            """
            SELECT COALESCE(\(fragment: condition), false)
            FROM (SELECT \(type.rawValue)::text AS type, split_part(\(type.rawValue), '.', 1) AS source, \(text)::jsonb AS payload) AS event
            """)
        return try rows[0].decode(Bool.self, at: 0)
    }

    @Test func everyMemberOfTheRuleIsErasedWhateverTheType() async throws {
        #expect(Self.cases.count >= 15)
        let mentions = IdentityPredicate.mentions(in: "payload", Self.person)
        try await TestPostgres.withDatabase { database in
            for test in Self.cases {
                let named = try await Self.holds(mentions, type: test.type, payload: test.payload(Self.value(naming: test.field.name)), on: database.client)
                #expect(named, "\(test)")
                // Erasure looks at every member whatever the event's type: a rejected message has none.
                let untyped = try await Self.holds(
                    mentions, type: EventType(rawValue: "other.type"), payload: test.payload(Self.value(naming: test.field.name)),
                    on: database.client)
                #expect(untyped, "\(test)")
                let someoneElse = try await Self.holds(mentions, type: test.type, payload: test.payload("someone-else"), on: database.client)
                #expect(!someoneElse, "\(test)")
            }
        }
    }

    @Test func theAuditTrailFindsWhatTheProjectionIdentifiesByInTheRulesOwnTypes() async throws {
        let names = IdentityPredicate.names(Self.person, mentionsOf: [IdentityKeys.hubSignal])
        try await TestPostgres.withDatabase { database in
            for test in Self.cases {
                let value = Self.value(naming: test.field.name)
                let expected = test.field.identifies || test.rule == IdentityKeys.hubSignal
                let named = try await Self.holds(names, type: test.type, payload: test.payload(value), on: database.client)
                #expect(named == expected, "\(test)")
                let someoneElse = try await Self.holds(names, type: test.type, payload: test.payload("someone-else"), on: database.client)
                #expect(!someoneElse, "\(test)")
                // Another family's event with the same member names nobody (a HubSpot company webhook's objectId).
                let otherFamily = try await Self.holds(
                    names, type: EventType(rawValue: "other.type"), payload: test.payload(value), on: database.client)
                #expect(!otherFamily, "\(test)")
                // A member kept to some types counts in those only (`previousId` of an alias, `traits.email` of an identify).
                if let types = test.path.types, let outside = [EventType.track, .identify].first(where: { !types.contains($0) }),
                    test.rule.applies(to: outside)
                {
                    let outsideTypes = try await Self.holds(names, type: outside, payload: test.payload(value), on: database.client)
                    #expect(!outsideTypes, "\(test)")
                }
            }
        }
    }

    @Test func aNarrowingConditionAppliesToItsRuleOnly() async throws {
        let onContacts: PQQuery = "upper(COALESCE(payload->'object'->>'objectType', \("CONTACT"))) = \("CONTACT")"
        let names = IdentityPredicate.names(Self.person, narrowing: [IdentityKeys.hubSpotAction: onContacts])
        let action: JSONValue = .object(["object": .object(["objectId": .string("501"), "objectType": .string("COMPANY")])])
        let contactAction: JSONValue = .object(["object": .object(["objectId": .string("501")])])
        let webhook: JSONValue = .object(["objectId": .string("501")])
        try await TestPostgres.withDatabase { database in
            let companyAction = try await Self.holds(names, type: .sendNotification, payload: action, on: database.client)
            #expect(!companyAction)
            #expect(try await Self.holds(names, type: .sendNotification, payload: contactAction, on: database.client))
            #expect(try await Self.holds(names, type: .hubSpotContactPropertyChange, payload: webhook, on: database.client))
        }
    }

    @Test func theSQLTextHoldsNoValueAndOnlyItsShapeDependsOnThem() {
        // Other values, as many lists empty as Self.person's (none): the same statement.
        let other = IdentityPredicate.Identities(
            userIDs: ["x'); DROP TABLE events; --", "u-2"], anonymousIDs: ["a-2"], emails: ["bob@example.com"], hubSpotIDs: ["9"],
            oneSignalIDs: ["os-2"], contactIDs: ["c_2", "c_3"], externalIDs: ["x-2"])
        for (first, second) in [
            (IdentityPredicate.mentions(in: "payload", Self.person), IdentityPredicate.mentions(in: "payload", other)),
            (IdentityPredicate.names(Self.person), IdentityPredicate.names(other)),
        ] {
            #expect(first.sql == second.sql)
            #expect(first.parameters.count < second.parameters.count + 1)
            #expect(!first.sql.contains("u-1") && !first.sql.contains("ada@example.com") && !first.sql.contains("501"))
            #expect(!second.sql.contains("DROP"))
            // Event types are binds too: no text of a type or family is in the statement.
            #expect(!EventType.hubSignalTypes.contains { first.sql.contains($0.rawValue) })
            #expect(![EventType.Family.segment, .hubSpotContactWebhook, .hubSpotAction, .oneSignal].contains { first.sql.contains($0.prefix) })
        }
        // Nobody: nothing to compare, nothing matches.
        #expect(IdentityPredicate.mentions(in: "payload", IdentityPredicate.Identities()).sql == "false")
        #expect(IdentityPredicate.names(IdentityPredicate.Identities()).sql == "false")
        // Only a user id: the statement compares only the members that can hold one.
        let userOnly = IdentityPredicate.names(IdentityPredicate.Identities(userIDs: ["u-1"]))
        #expect(userOnly.sql.contains("'userId'") && userOnly.sql.contains("'previousId'") && !userOnly.sql.contains("email"))
    }
}
