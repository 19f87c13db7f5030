import Domain
import EventStore
import Foundation
import PQ
import Testing
import TestSupport

@Suite struct EventStoreTests {
    @Test func appendedEventsReadBackAsStored() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            let outcomes = try await store.append([makeEvent(key: "m1"), makeEvent(key: "m2", user: "user-2")])
            #expect(outcomes.map(\.isDuplicate) == [false, false])
            #expect(outcomes[0].position < outcomes[1].position)

            let page = try await store.readSettled(after: .origin, limit: 10)
            #expect(page.events.map(\.idempotencyKey) == ["m1", "m2"])
            let first = try #require(page.events.first)
            #expect(first.stream == "contact:user-1")
            #expect(first.type == EventType(rawValue: "segment.track"))
            #expect(first.source == .segment)
            #expect(first.occurredAt == Date(timeIntervalSince1970: 1_790_000_000))
            #expect(try first.payload.decode([String: String].self)["event"] == "Signed Up")
            #expect(try first.metadata.decode([String: String].self)["writeKeyID"] == "wk_1")
            #expect(page.nextCursor == page.events.last?.cursor)

            let stream = try await store.events(inStream: "contact:user-2")
            #expect(stream.map(\.idempotencyKey) == ["m2"])
            #expect(try await store.headPosition() == outcomes[1].position)
        }
    }

    @Test func duplicateKeysInTheMiddleOfABatchAreStoredOnce() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            let earlier = try await store.append([makeEvent(key: "m2")])
            let outcomes = try await store.append([
                makeEvent(key: "m1"),
                makeEvent(key: "m2"),  // stored by the earlier request
                makeEvent(key: "m3"),
                makeEvent(key: "m3"),  // twice in this batch
                makeEvent(key: "m2", source: .hubspot),  // same key, other source: not a duplicate
                makeEvent(key: "m4"),
            ])
            #expect(outcomes[1] == .duplicate(existingPosition: earlier[0].position))
            #expect(outcomes[3] == .duplicate(existingPosition: outcomes[2].position))
            #expect(outcomes.map(\.isDuplicate) == [false, true, false, true, false, false])
            let rows = try await database.client.query("SELECT source, idempotency_key FROM events ORDER BY position")
            let stored = try rows.map { try $0.decode((String, String).self) }.map { "\($0.0)/\($0.1)" }
            #expect(stored == ["segment/m2", "segment/m1", "segment/m3", "hubspot/m2", "segment/m4"])
        }
    }

    @Test func aBadEventFailsTheWholeBatch() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            var broken = makeEvent(key: "m2")
            broken.payload = PQJSONB("{not json")
            await #expect(throws: PQError.self) { try await store.append([makeEvent(key: "m1"), broken]) }
            let invalid = await #expect(throws: EventStoreError.self) {
                try await store.append([makeEvent(key: "m1"), makeEvent(key: "")])
            }
            #expect(invalid?.index == 1)
            let head = try await store.headPosition()
            #expect(head == 0)
        }
    }

    @Test func historyCannotBeRewritten() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            try await store.append([makeEvent(key: "m1")])
            for statement: PQQuery in [
                "UPDATE events SET payload = '{}'", "DELETE FROM events", "DELETE FROM events WHERE false", "TRUNCATE events",
            ] {
                let error = await #expect(throws: PQError.self) { try await database.client.execute(statement) }
                #expect(error?.sqlState == "HS001", "\(statement.sql)")
            }
            #expect(try await store.headPosition() == 1)
        }
    }

    @Test func aServiceRoleWithTheDocumentedGrantsCanOnlyAppendAndRead() async throws {
        try await TestPostgres.withDatabase { database in
            let role = "hs_writer_" + database.name.suffix(8)
            try await database.client.execute("CREATE ROLE \(identifier: role) LOGIN")
            try await database.client.execute("GRANT SELECT, INSERT ON events, event_keys TO \(identifier: role)")
            let client = PQClient(
                configuration: .init(connectionString: database.connectionString + " user=\(role)"), logger: TestPostgres.logger)
            let store = EventStore(client: client, logger: TestPostgres.logger)
            try await store.append([makeEvent(key: "m1")])
            #expect(try await store.readSettled(after: .origin, limit: 5).events.count == 1)
            let error = await #expect(throws: PQError.self) { try await client.execute("DELETE FROM events") }
            #expect(error?.sqlState == "42501")  // insufficient_privilege: refused before the trigger
            await client.shutdown()
            try await database.client.execute("DROP OWNED BY \(identifier: role)")
            try await database.client.execute("DROP ROLE \(identifier: role)")
        }
    }

    /// Positions are taken before commit. Transaction A appends first (lower position) but commits after B: a reader
    /// that checkpoints positions would skip A's event forever. Ours must deliver both, in commit-safe order.
    @Test func outOfOrderCommitsAreNeverSkipped() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            let client = database.client
            let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
            let (appendedA, appendedAContinuation) = AsyncStream.makeStream(of: Int64.self)

            let transactionA = Task {
                try await client.withTransaction { connection in
                    let outcome = try await store.append([makeEvent(key: "a")], on: connection)
                    appendedAContinuation.yield(outcome[0].position)
                    for await _ in release { break }  // hold the transaction open
                }
            }
            var positions = appendedA.makeAsyncIterator()
            let positionA = try #require(await positions.next())
            let positionB = try await store.append([makeEvent(key: "b")])[0].position
            #expect(positionA < positionB)

            // B is committed, A is not. A naive reader sees B and would checkpoint its position...
            let naive = try await client.query("SELECT position FROM events WHERE position > \(Int64(0)) ORDER BY position")
            #expect(try naive.map { try $0.decode(Int64.self, at: 0) } == [positionB])
            // ...ours sees nothing yet, and knows it is held back.
            let early = try await store.read(after: .origin, limit: 10)
            #expect(early.events.isEmpty)
            #expect(early.isHeldBack)

            releaseContinuation.yield()
            try await transactionA.value

            // The naive reader, resuming after B's position, has lost A for good.
            let naiveLater = try await client.query("SELECT position FROM events WHERE position > \(positionB)")
            #expect(naiveLater.isEmpty)
            // Ours delivers A, then B.
            let page = try await store.readSettled(after: early.nextCursor, limit: 10)
            #expect(page.events.map(\.idempotencyKey) == ["a", "b"])
        }
    }

    @Test func concurrentAppendersLoseNothing() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for batch in 0..<25 {
                            try await store.append((0..<20).map { makeEvent(key: "w\(writer)-b\(batch)-\($0)") })
                        }
                    }
                }
                // A reader runs alongside, checkpointing as it goes.
                group.addTask {
                    var cursor = LogCursor.origin
                    var seen = Set<String>()
                    while seen.count < 2000 {
                        let page = try await store.read(after: cursor, limit: 97)
                        for event in page.events {
                            #expect(seen.insert(event.idempotencyKey).inserted, "delivered twice: \(event.idempotencyKey)")
                        }
                        cursor = page.nextCursor
                        if page.events.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
