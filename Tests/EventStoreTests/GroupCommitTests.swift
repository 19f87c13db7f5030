@testable import EventStore
import Foundation
import PQ
import Synchronization
import Testing
import TestSupport

/// Group commit: appends that arrive while the writers are busy share one statement and one commit.
///
/// Each test holds the single writer with a lock on `events` (taken by another transaction), queues appends behind
/// it, and then releases the lock, so which appends share a statement is certain.
@Suite struct GroupCommitTests {
    @Test func queuedAppendsShareOneCommitAndEachGetsItsOwnOutcomes() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger, appendWriters: 1)
            let outcomes = try await withWriterHeld(database, store: store, queued: 5) { start in
                for batch in 0..<6 {
                    start { try await store.append((0..<10).map { makeEvent(key: "b\(batch)-\($0)") }) }
                }
            }
            #expect(outcomes.count == 6)
            var positions = Set<Int64>()
            for (batch, result) in outcomes.sorted(by: { $0.key < $1.key }) {
                let appended = try result.get()
                #expect(appended.count == 10, "batch \(batch)")
                #expect(appended.allSatisfy { !$0.isDuplicate })
                positions.formUnion(appended.map(\.position))
            }
            #expect(positions.count == 60)
            // The first append ran alone (it held the writer); the five queued behind it were written together.
            let transactions = try await database.client.query("SELECT count(DISTINCT transaction_id) FROM events")[0]
                .decode(Int64.self, at: 0)
            #expect(transactions == 2)
            // Each caller's outcomes are the positions its own keys were stored at.
            for (batch, result) in outcomes {
                let stored = try await database.client.query(
                    "SELECT position FROM events WHERE idempotency_key LIKE \("b\(batch)-%") ORDER BY position")
                #expect(try stored.map { try $0.decode(Int64.self, at: 0) } == (try result.get()).map(\.position))
            }
        }
    }

    @Test func aBatchWithBadDataFailsOnlyItsOwnCaller() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger, appendWriters: 1)
            let outcomes = try await withWriterHeld(database, store: store, queued: 3) { start in
                start { try await store.append([makeEvent(key: "first")]) }
                start { try await store.append([makeEvent(key: "good-1")]) }
                start {
                    var broken = makeEvent(key: "broken")
                    broken.payload = PQJSONB("{not json")
                    return try await store.append([makeEvent(key: "beside-broken"), broken])
                }
                start { try await store.append([makeEvent(key: "good-2")]) }
            }
            #expect(throws: Never.self) { try outcomes[0]!.get() }
            #expect(throws: Never.self) { try outcomes[1]!.get() }
            let failure = #expect(throws: PQError.self) { try outcomes[2]!.get() }
            #expect(failure?.sqlState == "22P02")
            #expect(throws: Never.self) { try outcomes[3]!.get() }
            let rows = try await database.client.query("SELECT idempotency_key FROM events ORDER BY position")
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["first", "good-1", "good-2"])
        }
    }

    @Test func aKeyInTwoQueuedBatchesIsStoredOnceAndTheSecondLearnsWhere() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger, appendWriters: 1)
            let outcomes = try await withWriterHeld(database, store: store, queued: 2) { start in
                start { try await store.append([makeEvent(key: "first")]) }
                start { try await store.append([makeEvent(key: "shared"), makeEvent(key: "a")]) }
                start { try await store.append([makeEvent(key: "b"), makeEvent(key: "shared")]) }
            }
            let one = try outcomes[1]!.get()
            let two = try outcomes[2]!.get()
            #expect(!one[0].isDuplicate && !one[1].isDuplicate && !two[0].isDuplicate)
            #expect(two[1] == .duplicate(existingPosition: one[0].position))
            let stored = try await database.client.query("SELECT count(*) FROM events WHERE idempotency_key = 'shared'")[0]
                .decode(Int64.self, at: 0)
            #expect(stored == 1)
        }
    }

    @Test func aCancelledQueuedAppendStoresNothing() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger, appendWriters: 1)
            let outcomes = try await withWriterHeld(database, store: store, queued: 1, cancelQueued: true) { start in
                start { try await store.append([makeEvent(key: "first")]) }
                start { try await store.append([makeEvent(key: "cancelled")]) }
            }
            #expect(throws: Never.self) { try outcomes[0]!.get() }
            #expect(throws: CancellationError.self) { try outcomes[1]!.get() }
            let rows = try await database.client.query("SELECT idempotency_key FROM events ORDER BY position")
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == ["first"])
        }
    }

    /// The byte cap holds for a caller's own batch too (issue 18 §1): a batch over it is refused whole, before anything
    /// is written (never split: one caller's events commit together or not at all); a batch at the cap is written.
    @Test func aBatchOverTheByteCapIsRefusedWholeAndNothingIsWritten() async throws {
        let groupCommit = GroupCommit(maximumWriters: 1, maximumBytes: 1_000)
        let statements = Mutex(0)
        let write: @Sendable ([[NewEvent]]) async -> [Result<[AppendOutcome], any Error>] = { group in
            statements.withLock { $0 += 1 }
            return group.map { batch in .success(batch.indices.map { .appended(position: Int64($0 + 1)) }) }
        }
        func events(payloadBytes: Int, count: Int) -> [NewEvent] {
            (0..<count).map { index in
                var event = makeEvent(key: "k-\(index)")
                event.payload = PQJSONB(bytes: Array(#"{"s":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: payloadBytes - 8) + Array(#""}"#.utf8))
                return event
            }
        }
        let over = events(payloadBytes: 250, count: 5)
        #expect(over.reduce(0) { $0 + $1.payload.bytes.count } == 1_250)
        let refused = await #expect(throws: EventStoreError.self) { try await groupCommit.append(over, write: write) }
        #expect(refused?.message.contains("1250 bytes") == true && refused?.message.contains("at most 1000 bytes") == true)
        #expect(statements.withLock { $0 } == 0)
        let written = try await groupCommit.append(events(payloadBytes: 250, count: 4), write: write)
        #expect(written.count == 4)
        #expect(statements.withLock { $0 } == 1)
    }

    @Test func theStoreRefusesABatchOverEightMegabytesAndStoresNothing() async throws {
        try await TestPostgres.withDatabase { database in
            let store = EventStore(client: database.client, logger: TestPostgres.logger)
            let filler = String(repeating: "x", count: 1 << 20)
            let batch = (0..<9).map { index in
                var event = makeEvent(key: "big-\(index)")
                event.payload = PQJSONB(#"{"s": "\#(filler)"}"#)
                return event
            }
            let refused = await #expect(throws: EventStoreError.self) { try await store.append(batch) }
            #expect(refused?.message.contains("at most \(8 << 20) bytes") == true)
            let stored = try await database.client.query("SELECT count(*) FROM events")[0].decode(Int64.self, at: 0)
            #expect(stored == 0)
            // Below the cap, the same events are stored together.
            let appended = try await store.append(Array(batch.prefix(7)))
            #expect(appended.count == 7)
        }
    }
}

typealias AppendResult = Result<[AppendOutcome], any Error>

/// Locks `events` in another transaction, starts the appends `enqueue` gives (in order: the first takes the writer and
/// waits for the lock, the others queue behind it), waits until `queued` appends wait for the writer, optionally
/// cancels the queued ones, releases the lock and returns each append's result by its start order.
private func withWriterHeld(
    _ database: TestDatabase, store: EventStore, queued: Int, cancelQueued: Bool = false,
    _ enqueue: (_ start: (@escaping @Sendable () async throws -> [AppendOutcome]) -> Void) -> Void
) async throws -> [Int: AppendResult] {
    let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
    let (locked, lockedContinuation) = AsyncStream.makeStream(of: Void.self)
    let holder = Task {
        try await database.client.withTransaction { connection in
            try await connection.execute("LOCK TABLE events IN SHARE MODE")
            lockedContinuation.yield()
            for await _ in release { break }
        }
    }
    for await _ in locked { break }

    var operations: [@Sendable () async throws -> [AppendOutcome]] = []
    enqueue { operations.append($0) }
    var tasks: [Task<[AppendOutcome], any Error>] = []
    for (index, operation) in operations.enumerated() {
        tasks.append(Task { try await operation() })
        if index == 0 {
            // The first append holds the writer once its INSERT waits for the lock.
            try await waitUntil("the first append waits for the lock") {
                try await database.client.query(
                    """
                    SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
                    WHERE NOT l.granted AND d.datname = current_database()
                    """)[0].decode(Int64.self, at: 0) == 1
            }
        } else {
            // Queue them in order.
            try await waitUntil("append \(index) is queued") { store.groupCommit.queuedCount == index }
        }
    }
    #expect(store.groupCommit.queuedCount == queued)
    if cancelQueued { for task in tasks.dropFirst() { task.cancel() } }
    releaseContinuation.yield()
    releaseContinuation.finish()
    try await holder.value
    var results: [Int: AppendResult] = [:]
    for (index, task) in tasks.enumerated() {
        do { results[index] = .success(try await task.value) } catch { results[index] = .failure(error) }
    }
    return results
}
