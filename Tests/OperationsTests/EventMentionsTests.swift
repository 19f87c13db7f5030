import Domain
import EventStore
import Foundation
@testable import Operations
import PQ
import Testing
import TestSupport

/// Erasure finds a person's events through `hubsignal_event_mentions(payload)` (migration 0022) and its GIN index:
/// the function must list every member `IdentityKeys` names a person by, or an erasure would miss events.
@Suite struct EventMentionsTests {
    /// The function's keys for `payload`, as PostgreSQL computes them.
    static func mentions(_ payload: JSONValue, on client: PQClient) async throws -> [String] {
        let text = String(decoding: try payload.serialized(), as: UTF8.self)
        return try await client.query("SELECT unnest(hubsignal_event_mentions(\(text)::jsonb))").map { try $0.decode(String.self, at: 0) }
    }

    @Test func everyMemberOfEveryRuleIsAMentionLoweredAndTrimmed() async throws {
        let cases = IdentityPredicateTests.cases
        #expect(cases.count >= 15)
        try await TestPostgres.withDatabase { database in
            for (index, test) in cases.enumerated() {
                // A marker of this member alone: found, it comes from this path.
                let marker = "  Marker-\(index)-\(test.field.name.rawValue) "
                let keys = try await Self.mentions(test.payload(marker), on: database.client)
                #expect(keys.contains("marker-\(index)-\(test.field.name.rawValue)"), "\(test): \(keys)")
                #expect(!keys.contains("someone-else"))
            }
        }
    }

    @Test func theIndexedConditionHoldsWheneverTheExactOneDoesAndNotForSomeoneElse() async throws {
        let person = IdentityPredicateTests.person
        let exact = IdentityPredicate.mentions(in: "payload", person)
        let indexed = IdentityPredicate.mayMention(person)
        try await TestPostgres.withDatabase { database in
            for test in IdentityPredicateTests.cases {
                let payload = test.payload(IdentityPredicateTests.value(naming: test.field.name))
                let named = try await IdentityPredicateTests.holds(exact, type: test.type, payload: payload, on: database.client)
                let candidate = try await IdentityPredicateTests.holds(indexed, type: test.type, payload: payload, on: database.client)
                #expect(named && candidate, "\(test)")
                let someoneElse = try await IdentityPredicateTests.holds(
                    indexed, type: test.type, payload: test.payload("someone-else"), on: database.client)
                #expect(!someoneElse, "\(test)")
            }
        }
    }

    @Test func positionsLongValuesAndOddShapes() async throws {
        let long = String(repeating: "Ada-", count: 1_000)
        try await TestPostgres.withDatabase { database in
            let client = database.client
            func holds(_ condition: PQQuery, _ payload: String) async throws -> Bool {
                try await IdentityPredicateTests.holds(
                    condition, type: .track, payload: try JSONValue.parse(Array(payload.utf8)), on: client)
            }
            // HubSignal's results name the event they came from by its position.
            let result = #"{"position":42,"rule":"orders","contactId":"c_9"}"#
            #expect(try await holds(IdentityPredicate.mayMention(.init(), positions: [7, 42]), result))
            #expect(try await !holds(IdentityPredicate.mayMention(.init(), positions: [4, 420]), result))
            // A value longer than a GIN key may be is cut, on both sides, to the same key.
            #expect(try await holds(IdentityPredicate.mayMention(.init(userIDs: [long])), #"{"userId":"\#(long)"}"#))
            // Two such values with the same beginning are candidates of each other; the exact predicate tells them apart.
            let other = #"{"userId":"\#(long)x"}"#
            #expect(try await holds(IdentityPredicate.mayMention(.init(userIDs: [long])), other))
            #expect(try await !holds(IdentityPredicate.mentions(in: "payload", .init(userIDs: [long])), other))
            // Ids as numbers, list elements that are not strings, lists that are not lists, erased events.
            #expect(try await Self.mentions(.object(["objectId": .int(501)]), on: client) == ["501"])
            #expect(try await Set(Self.mentions(try JSONValue.parse(Array(#"{"mergedObjectIds":[1,"Two",null]}"#.utf8)), on: client)) == ["1", "two"])
            #expect(try await Self.mentions(try JSONValue.parse(Array(#"{"mergedObjectIds":"501"}"#.utf8)), on: client) == [])
            #expect(try await Self.mentions(.object(["erased": .string("x")]), on: client) == [])
            // The log takes such an event (its index key is within GIN's limit).
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"\#(long)","traits":{"email":"long@example.com"}}"#)
        }
    }
}
