import Domain
import EventStore
import Foundation
import Mapping
import PQ
import Projections

/// Writes Segment-like events into a test database's log and runs the people projection over them.
public struct ProjectionHarness: Sendable {
    public let database: TestDatabase
    public let store: EventStore
    public var clock = Date(timeIntervalSince1970: 1_790_000_000)  // each append adds a minute

    public init(_ database: TestDatabase) {
        self.database = database
        self.store = database.makeEventStore()
    }

    /// Appends one event (a Segment message as stored after normalization, or any other type) and returns its position.
    @discardableResult
    public mutating func append(_ type: EventType, _ payload: String, source: EventSource = .segment) async throws -> Int64 {
        clock += 60
        let outcome = try await store.append([
            NewEvent(
                stream: "test", type: type, source: source, idempotencyKey: UUID().uuidString, occurredAt: clock,
                payload: PQJSONB(payload), metadata: PQJSONB("{}"))
        ])
        return outcome[0].position
    }

    /// Brings the live projection up to date with `mapping` (recording or rebuilding it first, like `serve`).
    public func project(_ mapping: Mapping = .defaults) async throws {
        let service = PeopleProjectionService(
            store: store, watcher: LogWatcher(), mapping: mapping, autoRebuild: true, logger: TestPostgres.logger)
        try await service.prepare()
        let subscription = service.makeSubscription()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            switch try await subscription.processNextBatch() {
            case .processed: continue
            case .idle(isHeldBack: false): return
            case .idle(isHeldBack: true), .busy: try await Task.sleep(for: .milliseconds(10))
            }
        }
        throw ProjectionError("the projection did not catch up within 60 s")
    }

    public var client: PQClient { database.client }

    /// All rows of a one-column query, as strings.
    public func strings(_ query: PQQuery) async throws -> [String] {
        try await client.query(query).map { try $0.decode(String.self, at: 0) }
    }

    /// The count a one-row, one-column `count(*)` query returns.
    public func count(_ query: PQQuery) async throws -> Int {
        Int(try await client.query(query)[0].decode(Int64.self, at: 0))
    }
}
