import EmbeddedPostgres
import EventStore
import Foundation
import Synchronization
import Logging
import Migrations
import PQ
import Projections
import ServiceLifecycle

/// A scratch database on a durable PostgreSQL (a private server, or `DATABASE_URL`), migrated, and dropped afterwards.
struct BenchEnvironment {
    let client: PQClient
    let connectionString: String
    let migrations: MigrationSet

    /// Runs `body` with a fresh environment and cleans up on success and failure alike.
    static func with<T>(
        options: BenchOptions, maximumConnections: Int, logger: Logger, _ body: (BenchEnvironment) async throws -> T
    ) async throws -> T {
        // A durable server: the event store's promise is that an append is committed when it returns.
        let server: EmbeddedPostgres?
        let serverURL: String
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            server = nil
            serverURL = url
        } else {
            var configuration = EmbeddedPostgres.Configuration(isDurable: true)
            configuration.settings["shared_buffers"] = "512MB"
            configuration.settings["max_wal_size"] = "4GB"
            server = try await EmbeddedPostgres.start(configuration, logger: logger)
            serverURL = server!.connectionString
        }
        let admin = PQClient(configuration: .init(connectionString: serverURL), logger: logger)
        let database = "hubsignal_bench_\(UInt32.random(in: 0...UInt32.max))"
        let connectionString = try PQConnectionString.replacingDatabase(in: serverURL, with: database)
        var clientConfiguration = PQClient.Configuration(connectionString: connectionString)
        clientConfiguration.maximumConnections = max(2, maximumConnections)
        let client = PQClient(configuration: clientConfiguration, logger: logger)
        func cleanUp() async {
            await client.shutdown()
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            await admin.shutdown()
            await server?.stop()
        }
        do {
            try await admin.execute("CREATE DATABASE \(identifier: database)")
            let migrations = try MigrationSet.load(from: URL(fileURLWithPath: options.migrations))
            try await Migrator(client: client, migrations: migrations, logger: logger).migrate()
            let environment = BenchEnvironment(client: client, connectionString: connectionString, migrations: migrations)
            let settings = try await client.query(
                "SELECT current_setting('server_version'), current_setting('fsync'), current_setting('synchronous_commit')")[0]
                .decode((String, String, String).self)
            print("PostgreSQL \(settings.0), fsync=\(settings.1), synchronous_commit=\(settings.2)")
            let result = try await body(environment)
            await cleanUp()
            return result
        } catch {
            await cleanUp()
            throw error
        }
    }

    /// Lets the server settle before a measured phase, so that the phases do not pay for each other: vacuums the
    /// event log (otherwise autovacuum of the rows just appended runs during the next phase) and writes a checkpoint
    /// (needs superuser or `pg_checkpoint`; skipped with a note otherwise).
    func quiesce() async throws {
        try await client.execute("VACUUM (ANALYZE) events")
        do {
            try await client.execute("CHECKPOINT")
        } catch let error as PQError where error.code == .server {
            print("  note: CHECKPOINT not allowed for this user; phases may overlap with background writes")
        }
    }

    /// The reference: copies `events` into a plain table (same columns; no keys, no indexes) with raw
    /// `COPY … FROM STDIN`, split over `streams` parallel COPY streams. Returns rows per second.
    func copyReference(_ events: [NewEvent], streams: Int) async throws -> Double {
        try await client.execute(
            """
            CREATE TABLE copy_reference (stream text, type text, source text, idempotency_key text,
                                         occurred_at timestamptz, payload jsonb, metadata jsonb)
            """)
        try await quiesce()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let occurredAtText = events.map { formatter.string(from: $0.occurredAt) }
        let count = events.count
        let share = (count + streams - 1) / streams
        let client = self.client
        let start = ContinuousClock.now
        let copied = try await withThrowingTaskGroup(of: Int.self) { group in
            for stream in 0..<streams {
                let range = (stream * share)..<min(count, (stream + 1) * share)
                group.addTask {
                    try await client.withConnection { connection in
                        try await connection.copyIn(
                            "COPY copy_reference (stream, type, source, idempotency_key, occurred_at, payload, metadata) FROM STDIN"
                        ) { writer in
                            for index in range {
                                let event = events[index]
                                writer.append(event.stream)
                                writer.append(event.type)
                                writer.append(event.source.rawValue)
                                writer.append(event.idempotencyKey)
                                writer.append(occurredAtText[index])
                                writer.append(bytes: event.payload.bytes)
                                writer.append(bytes: event.metadata.bytes)
                                try writer.endRow()
                            }
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard copied == count else { throw BenchError("COPY reported \(copied) rows, expected \(count)") }
        try await client.execute("DROP TABLE copy_reference")
        return Double(count) / seconds
    }
}

/// A benchmark that could not measure what it should.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints figures, and with `--json` one JSON object as the last line.
func report(_ lines: String, figures: [String: Double], json: Bool) throws {
    print(lines)
    if json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(figures), as: UTF8.self))
    }
}

func format(_ value: Double, digits: Int = 0) -> String {
    String(format: "%.\(digits)f", value)
}

/// Hands out work indexes to concurrent workers.
final class WorkCursor: Sendable {
    private let counter = Mutex(0)
    func take() -> Int {
        counter.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

extension Duration {
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

/// Runs the people projection and a sync worker in the background until the task is cancelled.
func runInBackground(_ projection: PeopleProjectionService, _ sync: some Service) -> Task<Void, any Error> {
    Task {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await projection.makeSubscription().run() }
            group.addTask { try await sync.run() }
            try await group.waitForAll()
        }
    }
}

/// Appends `events` in batches of 500, each stamped as it is sent, like live traffic (the syncs' coalescing delay
/// counts from this time).
func appendAsLiveTraffic(_ events: [NewEvent], to store: EventStore) async throws {
    for start in stride(from: 0, to: events.count, by: 500) {
        let now = Date()
        try await store.append(events[start..<min(start + 500, events.count)].map { event in
            var event = event
            event.occurredAt = now
            return event
        })
    }
}
