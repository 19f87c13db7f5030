import EventStore
import Foundation
import Synchronization
import PQ
import Testing
import TestSupport

@Suite struct SubscriptionTests {
    /// A projector that counts events per stream in its own table, in the batch's transaction.
    static func makeCounter(_ database: TestDatabase, name: String, batchSize: Int = 3, failOnKey: String? = nil) -> Subscription {
        var configuration = Subscription.Configuration(name: name)
        configuration.batchSize = batchSize
        configuration.pollInterval = .seconds(60)
        configuration.errorPolicy = .stop
        return Subscription(
            configuration: configuration, store: database.makeEventStore(), watcher: LogWatcher(), logger: TestPostgres.logger
        ) { events, connection in
            for event in events {
                try await connection.execute(
                    """
                    INSERT INTO stream_counts (stream, events) VALUES (\(event.stream), 1)
                    ON CONFLICT (stream) DO UPDATE SET events = stream_counts.events + 1
                    """)
                if event.idempotencyKey == failOnKey { throw HandlerFailure() }
            }
        }
    }

    struct HandlerFailure: Error {}

    static func counts(_ database: TestDatabase) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await database.client.query("SELECT stream, events FROM stream_counts") {
            let (stream, events) = try row.decode((String, Int).self)
            result[stream] = events
        }
        return result
    }

    @Test func handlerWritesAndCheckpointCommitTogether() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.client.execute("CREATE TABLE stream_counts (stream text PRIMARY KEY, events int NOT NULL)")
            let store = database.makeEventStore()
            try await store.append((1...7).map { makeEvent(key: "m\($0)", user: $0 % 2 == 0 ? "even" : "odd") })

            // A handler that fails on m5 rolls back its batch (m4, m5, m6): nothing of it is counted.
            let failing = Self.makeCounter(database, name: "counts", failOnKey: "m5")
            #expect(try await failing.processSettled() == .processed(count: 3, checkpoint: try await Self.cursor(of: "m3", store)))
            await #expect(throws: HandlerFailure.self) { try await failing.processNextBatch() }
            #expect(try await Self.counts(database) == ["contact:odd": 2, "contact:even": 1])
            #expect(try await failing.checkpoint() == (try await Self.cursor(of: "m3", store)))

            // A fixed handler resumes from the checkpoint: every event counted exactly once.
            let fixed = Self.makeCounter(database, name: "counts")
            while case .processed = try await fixed.processSettled() {}
            #expect(try await Self.counts(database) == ["contact:odd": 4, "contact:even": 3])
            #expect(try await fixed.processSettled() == .idle(isHeldBack: false))
        }
    }

    @Test func onlyOneInstanceWorksOnASubscriptionAtATime() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.client.execute("CREATE TABLE stream_counts (stream text PRIMARY KEY, events int NOT NULL)")
            try await database.makeEventStore().append([makeEvent(key: "m1")])
            let (release, releaseContinuation) = AsyncStream.makeStream(of: Void.self)
            let (inside, insideContinuation) = AsyncStream.makeStream(of: Void.self)
            var configuration = Subscription.Configuration(name: "shared")
            configuration.errorPolicy = .stop
            let slow = Subscription(
                configuration: configuration, store: database.makeEventStore(), watcher: LogWatcher(), logger: TestPostgres.logger
            ) { _, _ in
                insideContinuation.yield()
                for await _ in release { break }
            }
            let first = Task { try await slow.processSettled() }
            for await _ in inside { break }
            let second = Self.makeCounter(database, name: "shared")
            #expect(try await second.processNextBatch() == .busy)
            releaseContinuation.yield()
            #expect(try await first.value == .processed(count: 1, checkpoint: try await Self.cursor(of: "m1", database.makeEventStore())))
        }
    }

    @Test func startingAtCurrentSkipsHistory() async throws {
        try await TestPostgres.withDatabase { database in
            try await database.client.execute("CREATE TABLE stream_counts (stream text PRIMARY KEY, events int NOT NULL)")
            let store = database.makeEventStore()
            try await store.append([makeEvent(key: "old", user: "past")])
            var configuration = Subscription.Configuration(name: "from-now")
            configuration.startPosition = .current
            let seen = SeenKeys()
            let subscription = Subscription(
                configuration: configuration, store: store, watcher: LogWatcher(), logger: TestPostgres.logger
            ) { events, _ in seen.add(events.map(\.idempotencyKey)) }
            #expect(try await subscription.processSettled() == .idle(isHeldBack: false))
            try await store.append([makeEvent(key: "new")])
            _ = try await subscription.processSettled()
            #expect(seen.keys == ["new"])
        }
    }

    @Test func runningSubscriptionWakesOnNotifyWithoutPolling() async throws {
        try await TestPostgres.withDatabase { database in
            let store = database.makeEventStore()
            let watcher = LogWatcher(connectionString: database.connectionString, logger: TestPostgres.logger)
            var configuration = Subscription.Configuration(name: "live")
            configuration.pollInterval = .seconds(120)  // far longer than the test may take: only NOTIFY can wake it
            let seen = SeenKeys()
            let subscription = Subscription(configuration: configuration, store: store, watcher: watcher, logger: TestPostgres.logger) {
                events, _ in seen.add(events.map(\.idempotencyKey))
            }
            let watching = Task { try await watcher.run() }
            let running = Task { try await subscription.run() }
            // Let the subscription go idle and the listener connect.
            try await Task.sleep(for: .milliseconds(500))
            try await store.append([makeEvent(key: "wake-1")])
            try await waitUntil("the first event is handled") { seen.keys == ["wake-1"] }
            try await store.append([makeEvent(key: "wake-2"), makeEvent(key: "wake-3")])
            try await waitUntil("three events are handled") { seen.keys.count == 3 }
            running.cancel()
            watching.cancel()
            _ = try? await running.value
            _ = try? await watching.value
        }
    }

    static func cursor(of key: String, _ store: EventStore) async throws -> LogCursor {
        let page = try await store.readSettled(after: .origin, limit: 1000)
        return try #require(page.events.first { $0.idempotencyKey == key }).cursor
    }

}

/// Collects idempotency keys from a handler.
final class SeenKeys: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ keys: [String]) { storage.withLock { $0.append(contentsOf: keys) } }
    var keys: [String] { storage.withLock { $0 } }
}
