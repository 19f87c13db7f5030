import Foundation
import Operations
import PQ
import Testing
import TestSupport

/// The retention deletes the finished rows past their age, in batches, and nothing else: not `events`, not pending
/// work, not dead letters, not the per-object ledger rows, not `hubspot_event_queued`.
@Suite struct RetentionTests {
    @Test func oldRejectionsAreDeletedInBatchesAndRecentOnesKept() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            try await client.execute(
                """
                INSERT INTO rejections (received_at, source, endpoint, request_id, message_index, reason, message)
                SELECT now() - make_interval(days => d) + interval '1 hour', 'segment', '/v1/batch', 'req-' || d, 0, 'invalid', '{}'
                FROM generate_series(1, 40) d
                """)
            var configuration = Retention.Configuration()
            configuration.rejections = .seconds(10 * 86_400)
            configuration.delivered = nil
            configuration.batchSize = 7
            let retention = Retention(client: client, configuration: configuration)

            let dry = try await retention.run(dryRun: true)
            #expect(dry.rows == [.rejections: 30])
            #expect(try await count(client, "SELECT count(*) FROM rejections") == 40)

            let report = try await retention.run()
            #expect(report.rows == [.rejections: 30])
            #expect(try await count(client, "SELECT count(*) FROM rejections") == 10)
            #expect(try await count(client, "SELECT count(*) FROM rejections WHERE received_at < now() - interval '10 days'") == 0)
            #expect(try await retention.run().rows == [.rejections: 0])
        }
    }

    @Test func onlySentMessagesLedgerRowsAreDeleted() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            let old = "now() - interval '40 days'"
            try await client.execute(
                """
                INSERT INTO deliveries (destination, object_kind, object_key, state, updated_at) VALUES
                    ('hubspot', 'event', '11', 'done', \(unsafeRaw: old)),
                    ('onesignal', 'notification', 'cb-sent', 'done', \(unsafeRaw: old)),
                    ('onesignal', 'notification', 'cb-recent', 'done', now() - interval '2 days'),
                    ('onesignal', 'notification', 'cb-dead', 'dead', \(unsafeRaw: old)),
                    ('onesignal', 'notification', 'cb-queued', 'queued', \(unsafeRaw: old)),
                    ('onesignal', 'notification', 'cb-outbox', 'done', \(unsafeRaw: old)),
                    ('hubspot', 'contact', 'c-1', 'done', \(unsafeRaw: old)),
                    ('onesignal', 'user:default', 'c-1', 'done', \(unsafeRaw: old))
                """)
            // A done row whose outbox row is still there (its workflow action is not completed yet) is not finished.
            try await client.execute(
                """
                INSERT INTO onesignal_outbox (callback_id, position, app, hubspot_object_id, request, received_at)
                VALUES ('cb-outbox', 5, 'default', '901', '{}', now() - interval '40 days')
                """)
            try await client.execute("INSERT INTO hubspot_event_queued (position, rule) VALUES (11, '')")
            var configuration = Retention.Configuration()
            configuration.rejections = nil
            configuration.delivered = .seconds(30 * 86_400)
            let retention = Retention(client: client, configuration: configuration)

            #expect(try await retention.run(dryRun: true).rows == [.delivered: 2])
            #expect(try await count(client, "SELECT count(*) FROM deliveries") == 8)
            #expect(try await retention.run().rows == [.delivered: 2])
            let left = try await client.query("SELECT object_key FROM deliveries ORDER BY object_kind, object_key")
                .map { try $0.decode(String.self, at: 0) }
            #expect(left.count == 6, "\(left)")
            #expect(Set(left) == ["c-1", "cb-dead", "cb-outbox", "cb-queued", "cb-recent"])
            #expect(try await count(client, "SELECT count(*) FROM hubspot_event_queued") == 1)
            #expect(try await count(client, "SELECT count(*) FROM onesignal_outbox") == 1)
        }
    }

    @Test func deliveredRowsAreKeptAtLeastTheNotificationWindow() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            try await client.execute(
                """
                INSERT INTO deliveries (destination, object_kind, object_key, state, updated_at) VALUES
                    ('onesignal', 'notification', 'cb-hours', 'done', now() - interval '3 hours'),
                    ('onesignal', 'notification', 'cb-days', 'done', now() - interval '2 days')
                """)
            var configuration = Retention.Configuration()
            configuration.rejections = nil
            configuration.delivered = .seconds(3600)
            let report = try await Retention(client: client, configuration: configuration).run()
            #expect(report.rows == [.delivered: 1])
            #expect(report.retention[.delivered] == Retention.minimumDelivered)
            let left = try await client.query("SELECT object_key FROM deliveries").map { try $0.decode(String.self, at: 0) }
            #expect(left == ["cb-hours"])
        }
    }

    @Test func offKeepsATableForever() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            try await client.execute(
                """
                INSERT INTO rejections (received_at, source, endpoint, request_id, message_index, reason, message)
                VALUES (now() - interval '5 years', 'segment', '/v1/track', 'req', 0, 'invalid', '{}')
                """)
            var configuration = Retention.Configuration()
            configuration.rejections = try Retention.parse("off")
            configuration.delivered = try Retention.parse("0")
            let report = try await Retention(client: client, configuration: configuration).run()
            #expect(report.rows.isEmpty)
            #expect(try await count(client, "SELECT count(*) FROM rejections") == 1)
        }
    }

    @Test func theServiceAppliesTheRetentionUntilShutDown() async throws {
        try await TestPostgres.withDatabase { database in
            let client = database.client
            try await client.execute(
                """
                INSERT INTO rejections (received_at, source, endpoint, request_id, message_index, reason, message)
                VALUES (now() - interval '100 days', 'segment', '/v1/track', 'req', 0, 'invalid', '{}')
                """)
            var configuration = Retention.Configuration()
            configuration.interval = .milliseconds(50)
            let service = RetentionService(client: client, configuration: configuration, logger: TestPostgres.logger)
            let task = Task { try await service.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while try await count(client, "SELECT count(*) FROM rejections") > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await count(client, "SELECT count(*) FROM rejections") == 0)
            // Rows that age past the retention later go at a later interval.
            try await client.execute(
                """
                INSERT INTO rejections (received_at, source, endpoint, request_id, message_index, reason, message)
                VALUES (now() - interval '91 days', 'segment', '/v1/track', 'req-2', 0, 'invalid', '{}')
                """)
            while try await count(client, "SELECT count(*) FROM rejections") > 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await count(client, "SELECT count(*) FROM rejections") == 0)
            task.cancel()
            try? await task.value
        }
    }

    @Test func retentionsParseAsDurations() throws {
        #expect(try Retention.parse("30d") == .seconds(30 * 86_400))
        #expect(try Retention.parse(" 12H ") == .seconds(12 * 3600))
        #expect(try Retention.parse("90m") == .seconds(90 * 60))
        #expect(try Retention.parse("45s") == .seconds(45))
        #expect(try Retention.parse("off") == nil)
        #expect(try Retention.parse("0") == nil)
        for bad in ["30", "d", "-3d", "0d", "3w", "1.5d", ""] {
            #expect(throws: RetentionError.self, "\(bad)") { try Retention.parse(bad) }
        }
        #expect(Retention.format(.seconds(30 * 86_400)) == "30d")
        #expect(Retention.format(.seconds(7200)) == "2h")
        #expect(Retention.format(nil) == "off")
    }

    private func count(_ client: PQClient, _ query: PQQuery) async throws -> Int {
        Int(try await client.query(query)[0].decode(Int64.self, at: 0))
    }
}
