import Delivery
import Domain
import EventStore
import Foundation
import HubSpotSandbox
import Mapping
import TestSupport
import Testing

/// The history of matching events sent on request (issue 22 item 11): `HubSpotEventBackfill`, behind
/// `hubsignal replay hubspot --events`; see docs/switching.md "Sending the history of matching events".
@Suite(.serialized) struct BackfillTests {
    static let enabled = """
        behavioral_events:
          enabled: true
        """

    /// A whole window around the harness clock (1,790,000,000 s plus a minute per appended event).
    static let since = Date(timeIntervalSince1970: 1_700_000_000)
    static let until = Date(timeIntervalSince1970: 1_900_000_000)

    @Test func theHistoryIsSentOnRequestAndEachEventOnce() async throws {
        try await SyncHarness.run { sync in
            // Recorded while behavioral events were off.
            try await sync.identify("b1", #"{"email":"history@example.com"}"#)
            for total in 1...3 { try await sync.track("b1", "Order Completed", #"{"total":\#(total)}"#) }
            try await sync.settle([sync.worker()])
            // Enabled: the live outbox starts at the end of the log, so only what happens from now on is sent.
            let mapping = try Mapping.parse(Self.enabled)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.track("b1", "Order Completed", #"{"total":4}"#)
            try await sync.settle([worker], mapping: mapping)
            #expect(sync.sandbox.behavioralEvents().map { $0.properties["total"] } == ["4"])

            let backfill = HubSpotEventBackfill(
                store: sync.projection.store, mapping: mapping, portalID: "12345678", since: Self.since, until: Self.until)
            let progress = try await backfill.run(logger: TestPostgres.logger)
            #expect(progress.isComplete)
            // The three past orders; the live one was queued already.
            #expect(progress.queued == 3)
            // `hubsignal status` shows the outbox and where the window's backfill has read to.
            let status = try await HubSpotEventBackfill.status(client: sync.client)
            #expect(status.waiting == 3)
            #expect(status.backfills.map(\.name) == [backfill.name])
            #expect(status.backfills.first?.unread == 0)
            try await sync.settle([worker], mapping: mapping)
            let totals = sync.sandbox.behavioralEvents().compactMap { $0.properties["total"] }
            #expect(totals.sorted() == ["1", "2", "3", "4"])
            #expect(Set(sync.sandbox.behavioralEvents().compactMap(\.uuid)).count == 4)
            // The occurrence keeps the time it happened.
            #expect(sync.sandbox.behavioralEvents().map(\.occurredAt).min()! < Date(timeIntervalSince1970: 1_790_000_000 + 60 * 5))

            // Again: everything was queued once already, nothing is sent twice.
            let again = try await backfill.run(logger: TestPostgres.logger)
            #expect(again.queued == 0)
            try await sync.settle([worker], mapping: mapping)
            #expect(sync.sandbox.behavioralEvents().count == 4)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/events/v3/send").count == 2)
            // The second run read only what was recorded after the first (its result events), not the whole log again.
            #expect(again.read < progress.read)
        }
    }

    @Test func onlyEventsThatOccurredInTheWindowAreQueued() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("w1", #"{"email":"window@example.com"}"#)
            for total in 1...4 { try await sync.track("w1", "Order Completed", #"{"total":\#(total)}"#) }
            let mapping = try Mapping.parse(Self.enabled)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            // The identify is at +60 s, the orders at +120, +180, +240 and +300 s: [+180, +300) holds totals 2 and 3.
            let start = Date(timeIntervalSince1970: 1_790_000_000 + 180)
            let backfill = HubSpotEventBackfill(
                store: sync.projection.store, mapping: mapping, portalID: "12345678", since: start, until: start + 120)
            #expect(try await backfill.run(logger: TestPostgres.logger).queued == 2)
            try await sync.settle([worker], mapping: mapping)
            #expect(sync.sandbox.behavioralEvents().compactMap { $0.properties["total"] }.sorted() == ["2", "3"])
        }
    }

    @Test func theLiveOutboxAndABackfillWorkAsTheDocumentedServiceRole() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("g1", #"{"email":"grants@example.com"}"#)
            try await sync.track("g1", "Order Completed", #"{"total":1}"#)
            let mapping = try Mapping.parse(Self.enabled)
            try await sync.projection.project(mapping)
            let (_, client) = try await ServiceRole.create(in: sync.projection.database)
            let store = EventStore(client: client, logger: TestPostgres.logger)
            // The backfill queues through the same statement as the live subscription (hubspot_event_queued, the outbox,
            // its checkpoint): docs/security.md's grants must allow all of it.
            let backfill = HubSpotEventBackfill(store: store, mapping: mapping, portalID: "12345678", since: Self.since, until: Self.until)
            #expect(try await backfill.run(logger: TestPostgres.logger).queued == 1)
            try await sync.track("g1", "Order Completed", #"{"total":2}"#)
            #expect(try await backfill.run(logger: TestPostgres.logger).queued == 1)
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_queued") == 2)
            await client.shutdown()
        }
    }

    struct Crash: Error {}

    @Test func aBackfillInterruptedByACrashContinuesWhereItStoppedWithoutDuplicates() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("r1", #"{"email":"resume@example.com"}"#)
            for total in 1...9 { try await sync.track("r1", "Order Completed", #"{"total":\#(total)}"#) }
            let mapping = try Mapping.parse(Self.enabled)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)

            var first = HubSpotEventBackfill(
                store: sync.projection.store, mapping: mapping, portalID: "12345678", since: Self.since, until: Self.until)
            first.batchSize = 3
            var steps = 0
            await #expect(throws: Crash.self) {
                try await first.run(logger: TestPostgres.logger) { _ in
                    steps += 1
                    if steps == 2 { throw Crash() }
                }
            }
            // Two steps of three events were kept, with their checkpoint.
            let stoppedAt = try #require(try await first.checkpoint())
            let queuedBefore = try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox")
            #expect(queuedBefore > 0 && queuedBefore < 9)
            // Some of it is sent before the restart.
            try await sync.settle([worker], mapping: mapping)

            // A new process, the same window: it continues after the checkpoint.
            var second = HubSpotEventBackfill(
                store: sync.projection.store, mapping: mapping, portalID: "12345678", since: Self.since, until: Self.until)
            second.batchSize = 3
            #expect(try await second.checkpoint() == stoppedAt)
            let rest = try await second.run(logger: TestPostgres.logger)
            #expect(rest.isComplete)
            #expect(rest.read < 10)
            #expect(queuedBefore + rest.queued == 9)
            try await sync.settle([worker], mapping: mapping)
            let totals = sync.sandbox.behavioralEvents().compactMap { $0.properties["total"] }
            #expect(totals.sorted() == (1...9).map(String.init).sorted())
            #expect(try await second.checkpoint()! > stoppedAt)
        }
    }

    @Test func theBackfillWaitsWhileTheOutboxIsFull() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("f1", #"{"email":"full@example.com"}"#)
            for total in 1...6 { try await sync.track("f1", "Order Completed", #"{"total":\#(total)}"#) }
            let mapping = try Mapping.parse(Self.enabled)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)

            var backfill = HubSpotEventBackfill(
                store: sync.projection.store, mapping: mapping, portalID: "12345678", since: Self.since, until: Self.until)
            backfill.batchSize = 2
            backfill.maximumQueued = 2
            backfill.pollInterval = .milliseconds(20)
            // No sync running: after the first step fills the outbox, the backfill waits for it.
            let running = Task { try await backfill.run(logger: TestPostgres.logger) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") <= 3)
            // The sync drains the outbox, the backfill goes on, and all of it arrives.
            let deadline = ContinuousClock.now + .seconds(30)
            while sync.sandbox.behavioralEvents().count < 6, ContinuousClock.now < deadline {
                _ = try await worker.runOnce()
                try await Task.sleep(for: .milliseconds(20))
            }
            let progress = try await running.value
            #expect(progress.queued == 6)
            #expect(sync.sandbox.behavioralEvents().count == 6)
        }
    }
}
