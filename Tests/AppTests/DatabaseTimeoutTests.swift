import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PQ
import Testing
import TestSupport

/// A statement PostgreSQL does not finish in time (here: an append waiting behind a lock) is canceled by
/// `statement_timeout` and answered `503` with `Retry-After`, nothing stored; the same request succeeds once the
/// database answers again.
@Suite struct DatabaseTimeoutTests {
    @Test func aStuckAppendIsAnswered503WithRetryAfterAndSucceedsOnRetry() async throws {
        try await TestPostgres.withDatabase { database in
            var parts = try PQConnectionString.parse(database.connectionString)
            parts.append((key: "options", value: "-c statement_timeout=300ms"))
            let connectionString = parts.map { "\($0.key)='\($0.value.replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: " ")
            let client = PQClient(configuration: .init(connectionString: connectionString), logger: TestPostgres.logger)
            var configuration = AppConfiguration(databaseURL: connectionString)
            configuration.writeKeys = [IngestionTestServer.writeKey]
            configuration.port = 0
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: client, logger: TestPostgres.logger)
            do {
                try await application.test(.live) { http in
                    let body = ByteBuffer(string: #"{"userId":"u1","event":"Stuck","messageId":"stuck-1"}"#)
                    let headers = IngestionTestServer.basic(IngestionTestServer.writeKey)
                    // Another session holds the event log: the append waits until statement_timeout cancels it.
                    try await database.client.withTransaction { locker in
                        try await locker.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
                        let began = ContinuousClock.now
                        try await http.execute(uri: "/v1/track", method: .post, headers: headers, body: body) { response in
                            let text = String(buffer: response.body)
                            #expect(response.status == .serviceUnavailable, "\(text)")
                            #expect(response.headers[.retryAfter] != nil)
                            #expect(text.contains("did not answer in time") && text.contains("nothing was stored"), "\(text)")
                        }
                        #expect(ContinuousClock.now - began < .seconds(5))
                    }
                    #expect(try await database.client.query("SELECT count(*) FROM events")[0].decode(Int.self, at: 0) == 0)
                    // The client's retry, once the database answers.
                    try await http.execute(uri: "/v1/track", method: .post, headers: headers, body: body) { response in
                        #expect(response.status == .ok, "\(String(buffer: response.body))")
                    }
                    #expect(try await database.client.query("SELECT count(*) FROM events")[0].decode(Int.self, at: 0) == 1)
                }
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }
}
