import Domain
import EventStore
import Foundation
import PQ
import Testing
import TestSupport

@Suite struct FilteredReadTests {
    /// Reads every page of `filter` after `cursor`, following `nextCursor`, until no running transaction holds the
    /// reader back (at most 60 seconds; other tests' transactions share the server).
    static func readSettled(_ store: EventStore, _ filter: LogFilter, after cursor: LogCursor = .origin, limit: Int = 1000) async throws
        -> LogPage
    {
        let deadline = ContinuousClock.now + .seconds(60)
        var cursor = cursor
        var events: [RecordedEvent] = []
        while true {
            let page = try await store.read(matching: filter, after: cursor, limit: limit)
            events += page.events
            cursor = page.nextCursor
            if (!page.isHeldBack && page.events.count < limit) || ContinuousClock.now > deadline {
                return LogPage(events: events, isHeldBack: page.isHeldBack, nextCursor: cursor)
            }
            if page.events.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
    }

    /// One read, repeated until no running transaction holds the reader back (at most 60 seconds).
    static func readOnce(_ store: EventStore, _ filter: LogFilter, limit: Int, taking end: EventStore.ReadEnd = .oldest) async throws
        -> LogPage
    {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let page = try await store.read(matching: filter, limit: limit, taking: end)
            if !page.isHeldBack || ContinuousClock.now > deadline { return page }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func takesTheWholeHistoryOfTheStreamsAndOnlyTheRecentPositionsOfOthers() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            // Positions 1-6: ada's stream at both ends, bob's stream between; then one event on an unrelated stream.
            try await store.append([makeEvent(key: "ada-old", user: "ada")])
            try await store.append([makeEvent(key: "bob-1", user: "bob"), makeEvent(key: "bob-2", user: "bob")])
            try await store.append([makeEvent(key: "bob-3", user: "bob"), makeEvent(key: "ada-new", user: "ada")])
            try await store.append([makeEvent(key: "bob-4", user: "bob")])

            let streamOnly = try await Self.readSettled(store, LogFilter(streams: ["contact:ada"]))
            #expect(streamOnly.events.map(\.idempotencyKey) == ["ada-old", "ada-new"])
            // The last three positions of every stream, besides the stream's whole history: bob-1 and bob-2 are older.
            let windowed = try await Self.readSettled(store, LogFilter(streams: ["contact:ada"], recentPositions: 3))
            #expect(windowed.events.map(\.idempotencyKey) == ["ada-old", "bob-3", "ada-new", "bob-4"])
            // No stream: the window alone.
            let windowOnly = try await Self.readSettled(store, LogFilter(streams: [], recentPositions: 2))
            #expect(windowOnly.events.map(\.idempotencyKey) == ["ada-new", "bob-4"])
        }
    }

    @Test func theConditionDecidesWithItsValuesAsBindParameters() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            try await store.append([
                makeEvent(key: "a-track", user: "ada"),
                makeEvent(key: "a-identify", user: "ada", type: .identify),
                makeEvent(key: "b-identify", user: "bob", type: .identify),
            ])
            let hostile = "x') OR true OR ('"
            let identifies: PQQuery = "type = \(EventType.identify.rawValue) AND payload->>'userId' <> \(hostile)"
            let page = try await Self.readSettled(
                store, LogFilter(streams: ["contact:ada", "contact:bob"], condition: identifies))
            #expect(page.events.map(\.idempotencyKey) == ["a-identify", "b-identify"])
            #expect(page.events.allSatisfy { $0.type == .identify })

            let named: PQQuery = "payload->>'userId' = \(hostile)"
            #expect(try await Self.readSettled(store, LogFilter(streams: ["contact:ada"], condition: named)).events.isEmpty)
        }
    }

    /// Like `read(after:limit:)`: an event committed late by a transaction that began earlier is neither read before
    /// it commits nor skipped after, even though the cursor moves on past events that do not match.
    @Test func aLateCommitIsNeverSkipped() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            let client = database.client
            let filter = LogFilter(streams: ["contact:ada"], recentPositions: 1_000, condition: "payload->>'userId' = \("ada")")
            let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
            let (appended, appendedContinuation) = AsyncStream.makeStream(of: Int64.self)
            let early = Task {
                try await client.withTransaction { connection in
                    let outcome = try await store.append([makeEvent(key: "ada-late", user: "ada")], on: connection)
                    appendedContinuation.yield(outcome[0].position)
                    for await _ in release { break }  // hold the transaction open
                }
            }
            var positions = appended.makeAsyncIterator()
            _ = try #require(await positions.next())
            try await store.append([makeEvent(key: "bob-1", user: "bob"), makeEvent(key: "ada-1", user: "ada")])

            let held = try await store.read(matching: filter, limit: 10)
            #expect(held.events.isEmpty)
            #expect(held.isHeldBack)
            #expect(held.nextCursor == .origin)  // nothing before the late event is readable yet

            releaseContinuation.yield()
            try await early.value
            let page = try await Self.readSettled(store, filter, after: held.nextCursor)
            #expect(page.events.map(\.idempotencyKey) == ["ada-late", "ada-1"])
        }
    }

    @Test func pagesContinueWithoutGapsOrRepeatsAndNewestTakesTheLastOnes() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            for index in 1...5 {
                try await store.append([makeEvent(key: "ada-\(index)", user: "ada"), makeEvent(key: "bob-\(index)", user: "bob")])
            }
            let filter = LogFilter(streams: ["contact:ada"])
            let all = try await Self.readSettled(store, filter)
            #expect(all.events.map(\.idempotencyKey) == (1...5).map { "ada-\($0)" })
            // Every event up to the head was looked at: the cursor moves past bob-5 too.
            let head = try await Self.readSettled(store, LogFilter(streams: [], recentPositions: 1)).events.last?.cursor
            #expect(all.nextCursor == head)

            // A full page continues after its last event; the next one ends at the head.
            let first = try await Self.readOnce(store, filter, limit: 2)
            #expect(first.events.map(\.idempotencyKey) == ["ada-1", "ada-2"])
            #expect(first.nextCursor == first.events.last?.cursor)
            let rest = try await Self.readSettled(store, filter, after: first.nextCursor)
            #expect(rest.events.map(\.idempotencyKey) == ["ada-3", "ada-4", "ada-5"])

            // The newest two, oldest first; following from the cursor finds only what comes next.
            let newest = try await Self.readOnce(store, filter, limit: 2, taking: .newest)
            #expect(newest.events.map(\.idempotencyKey) == ["ada-4", "ada-5"])
            #expect(newest.nextCursor == all.nextCursor)
            try await store.append([makeEvent(key: "ada-6", user: "ada")])
            let next = try await Self.readSettled(store, filter, after: newest.nextCursor)
            #expect(next.events.map(\.idempotencyKey) == ["ada-6"])
        }
    }
}
