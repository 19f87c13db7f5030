import Domain
import EventStore
import Foundation
@testable import Operations
import PQ
import Testing
import TestSupport

/// Erasure finds a person's events through indexes (`events_mentions`, migration 0022, and the stream index), not by
/// reading the whole log, and finds exactly what the whole-log scan finds.
@Suite struct ErasureIndexTests {
    /// Ada as the read models know her (a OneSignal external id is a userId).
    static let ada = Erasure.Identities(
        contactIDs: ["c_1"], userIDs: ["u-1", "x-1"], anonymousIDs: ["a-1"], emails: ["ada@example.com"], hubSpotIDs: ["501"],
        oneSignalIDs: ["os-1"])

    /// The positions `query` returns.
    static func positions(_ query: PQQuery, on client: PQClient) async throws -> Set<Int64> {
        Set(try await client.query(query).map { try $0.decode(Int64.self, at: 0) })
    }

    /// The plan of `query`, as text.
    static func plan(_ query: PQQuery, on client: PQClient) async throws -> String {
        var explained = query
        explained.sql = "EXPLAIN " + query.sql
        return try await client.query(explained).map { try $0.decode(String.self, at: 0) }.joined(separator: "\n")
    }

    @Test func theIndexedSearchFindsWhatTheWholeLogScanFinds() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            // Every member of every rule naming Ada, the same naming someone else, and results naming those events.
            var adas: [Int64] = []
            for test in IdentityPredicateTests.cases {
                let value = test.field.name == .externalID ? "x-1" : IdentityPredicateTests.value(naming: test.field.name)
                let text = String(decoding: try test.payload(value).serialized(), as: UTF8.self)
                adas.append(try await log.append(test.type, text, source: EventSource(rawValue: String(test.type.rawValue.split(separator: ".")[0]))))
                let other = String(decoding: try test.payload("someone-else").serialized(), as: UTF8.self)
                try await log.append(test.type, other)
            }
            let result = try await log.append(.hubSpotObjectSynced, #"{"position":\#(adas[0]),"rule":"orders"}"#, source: .hubsignal)
            try await log.append(.hubSpotObjectSynced, #"{"position":999999,"rule":"orders"}"#, source: .hubsignal)
            // An event on one of her streams, with nothing of her in it.
            let onStream = try await database.makeEventStore().append([
                NewEvent(
                    stream: "user:u-1", type: .track, source: .segment, idempotencyKey: "on-stream", occurredAt: Date(),
                    payload: PQJSONB(#"{"event":"Paid"}"#), metadata: PQJSONB("{}"))
            ])[0].position

            var sweep = Erasure.Sweep(erasureID: "e", identities: Self.ada)
            let first = try await Self.positions(sweep.findEvents(before: nil, indexed: true), on: database.client)
            #expect(first == (try await Self.positions(sweep.findEvents(before: nil, indexed: false), on: database.client)))
            #expect(first == Set(adas + [onStream]))
            // The next pass: results naming the erased positions.
            sweep.positions = Array(first)
            sweep.unchecked = Array(first)
            sweep.scanned = try await database.client.query("SELECT pg_current_snapshot()::text")[0].decode(String.self, at: 0)
            let results = try await Self.positions(sweep.findEvents(before: nil, indexed: true), on: database.client)
            #expect(results == (try await Self.positions(sweep.findEvents(before: nil, indexed: false), on: database.client)))
            #expect(results == [result])
        }
    }

    @Test func theSearchReadsIndexesNotTheWholeLog() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            // 20,000 events of 4,000 people, Ada's among them.
            for batch in 0..<20 {
                let events = (0..<1_000).map { index in
                    let person = (batch * 1_000 + index) % 4_000
                    return NewEvent(
                        stream: "user:u-\(person)", type: .track, source: .segment, idempotencyKey: "m-\(batch)-\(index)", occurredAt: Date(),
                        payload: PQJSONB(
                            #"{"type":"track","userId":"u-\#(person)","anonymousId":"a-\#(person)","event":"Viewed","properties":{"n":\#(index)}}"#),
                        metadata: PQJSONB("{}"))
                }
                _ = try await store.append(events)
            }
            try await database.client.execute("ANALYZE events")
            // The tables holding the events: `events` itself, or its partitions that have rows (an empty partition
            // ahead of the head is read in no time, and the planner rightly does so without an index).
            let populated = try await database.client.query("SELECT DISTINCT tableoid::regclass::text FROM events")
                .map { try $0.decode(String.self, at: 0) }
            #expect(!populated.isEmpty)
            func readsAWholeTable(_ plan: String) -> Bool { populated.contains { plan.contains("Seq Scan on \($0) ") } }
            var sweep = Erasure.Sweep(erasureID: "e", identities: Self.ada)
            let firstPass = try await Self.plan(sweep.findEvents(before: nil, indexed: true), on: database.client)
            #expect(!readsAWholeTable(firstPass), "\(firstPass)")
            #expect(firstPass.contains("mentions"), "\(firstPass)")
            let found = try await Self.positions(sweep.findEvents(before: nil, indexed: true), on: database.client)
            #expect(found.count == 5, "u-1's track events")
            // A later pass, with positions erased: still no scan of the log.
            sweep.positions = Array(found)
            sweep.unchecked = Array(found)
            sweep.scanned = try await database.client.query("SELECT pg_current_snapshot()::text")[0].decode(String.self, at: 0)
            let laterPass = try await Self.plan(sweep.findEvents(before: 1_000, indexed: true), on: database.client)
            #expect(!readsAWholeTable(laterPass), "\(laterPass)")
            // Without the index (migration 0022 pending), the same statement reads the whole log.
            let unindexed = try await Self.plan(Erasure.Sweep(erasureID: "e", identities: Self.ada).findEvents(before: nil, indexed: false), on: database.client)
            #expect(readsAWholeTable(unindexed), "\(unindexed)")
        }
    }

    @Test func anErasureWorksWhileMigration0022IsPending() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"ada-22","traits":{"email":"ada22@example.com"}}"#)
            try await log.append(.track, #"{"type":"track","userId":"ada-22","event":"Paid"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"bob-22","traits":{"email":"bob22@example.com"}}"#)
            try await log.project()
            try await database.client.execute("DROP FUNCTION hubsignal_event_mentions(jsonb) CASCADE")
            try await database.client.execute("DROP FUNCTION hubsignal_mention_keys(text[], bigint[])")
            let report = try await Erasure(client: log.client, store: log.store).erase(.email("ada22@example.com"))
            #expect(report.events == 2)
            #expect(try await log.count("SELECT count(*) FROM events WHERE payload::text LIKE '%ada-22%' OR payload::text LIKE '%ada22@%'") == 0)
            #expect(try await log.count("SELECT count(*) FROM events WHERE payload::text LIKE '%bob-22%'") == 1)
        }
    }
}
