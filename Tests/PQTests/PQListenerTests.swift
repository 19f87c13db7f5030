import Foundation
import PQ
import Testing
import TestSupport

@Suite struct PQListenerTests {
    @Test func deliversNotificationsAndReconnects() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let listener = PQListener(
                connectionString: database.connectionString, channels: ["wake up"], logger: TestPostgres.logger,
                reconnectDelay: .milliseconds(100))
            let events = listener.events()
            let running = Task { try await listener.run() }
            var iterator = events.makeAsyncIterator()
            #expect(await iterator.next() == .connected)

            try await database.client.execute("SELECT pg_notify('wake up', \("payload 1"))")
            guard case .notification(let notification)? = await iterator.next() else {
                Issue.record("expected a notification")
                return
            }
            #expect(notification.channel == "wake up")
            #expect(notification.payload == "payload 1")

            // Kill the listener's connection: it reconnects and says so.
            try await database.client.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'hubsignal-listener' AND datname = current_database()")
            #expect(await iterator.next() == .connected)
            try await database.client.execute("NOTIFY \(identifier: "wake up"), 'payload 2'")
            guard case .notification(let second)? = await iterator.next() else {
                Issue.record("expected a notification after reconnecting")
                return
            }
            #expect(second.payload == "payload 2")
            running.cancel()
            try await running.value
        }
    }
}
