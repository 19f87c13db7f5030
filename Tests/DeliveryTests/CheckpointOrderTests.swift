@testable import Delivery
import Domain
import EventStore
import Foundation
import PQ
import Projections
import Testing
import TestSupport

/// A caught-up projection whose checkpoint position is below the log's highest position (a transaction that began
/// earlier appended last) counts as caught up: the syncs push, and a notification's event counts as projected.
@Suite struct CheckpointOrderTests {
    @Test func aCaughtUpProjectionIsCaughtUpWhenAnOlderTransactionAppendedLast() async throws {
        try await TestPostgres.withDatabase { database in
            let projection = ProjectionHarness(database)
            let store = projection.store
            func event(_ key: String) -> NewEvent {
                NewEvent(
                    stream: "user:\(key)", type: .identify, source: .segment, idempotencyKey: key, occurredAt: Date(),
                    payload: PQJSONB(#"{"type":"identify","userId":"\#(key)","traits":{"email":"\#(key)@example.com"}}"#))
            }
            // The early transaction takes its transaction id first and appends after the other one has committed.
            let (ready, readyContinuation) = AsyncStream.makeStream(of: Void.self)
            let (go, goContinuation) = AsyncStream.makeStream(of: Void.self)
            let early = Task {
                try await database.client.withTransaction { connection in
                    _ = try await connection.query("SELECT pg_current_xact_id()")
                    readyContinuation.yield()
                    for await _ in go { break }
                    return try await store.append([event("late")], on: connection)[0].position
                }
            }
            for await _ in ready { break }
            let first = try await store.append([event("first")])[0].position
            goContinuation.yield()
            goContinuation.finish()
            let last = try await early.value
            #expect(first < last)
            try await projection.project()

            // The projection read "late" (older transaction) before "first": its checkpoint is "first"'s position.
            let (transactionID, checkpoint) = try await database.client.query(
                "SELECT transaction_id, position FROM subscription_checkpoints WHERE name = 'people'")[0].decode((UInt64, Int64).self)
            #expect(checkpoint == first)
            // What `hubsignal status` and the benches report as lag: nothing unread, although "late" is further on.
            #expect(try await store.unreadCount(after: LogCursor(transactionID: transactionID, position: checkpoint)) == 0)
            #expect(try await store.unreadCount(after: nil) == 2)
            let caughtUp = try await database.client.query(
                "SELECT (\(fragment: ReadModel.projectedUntil)) = now()")[0].decode(Bool.self, at: 0)
            #expect(caughtUp, "the projection has read every event")
            let ledger = DeliveryLedger(client: database.client)
            #expect(try await ledger.projected(past: last))
            #expect(try await ledger.projected(past: first))
            #expect(try await !ledger.projected(past: last + 1))
        }
    }
}
