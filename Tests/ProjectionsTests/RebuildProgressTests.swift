import EventStore
import Foundation
import Mapping
import Projections
import Synchronization
import TestSupport
import Testing

@Suite struct RebuildProgressTests {
    /// The phases a rebuild reports, in order: the replay batch by batch, one report when the replay has reached the
    /// head and the new tables are being written (what `hubsignal-bench rebuild` times as the writing phase), then the
    /// swap.
    @Test func aRebuildReportsTheReplayThenTheWritingThenTheSwap() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            for user in 0..<12 {
                try await log.append(.identify, #"{"type":"identify","userId":"u\#(user)","traits":{"email":"u\#(user)@example.com"}}"#)
            }
            let reports = Mutex<[ProjectionRebuild.Progress]>([])
            var rebuild = ProjectionRebuild(store: log.store, mapping: .defaults, logger: TestPostgres.logger)
            rebuild.batchSize = 5
            let replayed = try await rebuild.run { progress in reports.withLock { $0.append(progress) } }
            #expect(replayed == 12)
            let all = reports.withLock { $0 }
            let phases = all.map { $0.isSwapping ? "swap" : $0.isWriting ? "write" : "replay" }
            #expect(phases == ["replay", "replay", "replay", "write", "swap"])
            #expect(all.map(\.events) == [5, 10, 12, 12, 12])
            #expect(try await log.count("SELECT count(*) FROM contacts") == 12)
        }
    }
}
