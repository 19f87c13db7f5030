import ArgumentParser
import EmbeddedPostgres
import EventStore
import Foundation
import Synchronization
import Logging
import Migrations
import PQ

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubsignal-bench",
        abstract: "HubSignal's benchmarks. Each prints our figure, a reference measured in the same run, and their ratio.",
        subcommands: [AppendBench.self])
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(help: "Number of events.") var events = 1_000_000
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"
}

struct AppendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: """
            Append realistic Segment events through the event store in batches, copy the same rows into a plain table with \
            raw COPY (as many COPY streams as appenders), and read them back through the subscription read path.
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Events per append (one statement, one transaction, one round trip).") var batchSize = 100
    @Option(help: "Concurrent appenders, and as many parallel COPY streams for the reference (the service appends from many requests at once).")
    var concurrency = 4

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events

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
        try await admin.execute("CREATE DATABASE \(identifier: database)")
        var clientConfiguration = PQClient.Configuration(connectionString: try PQConnectionString.replacingDatabase(in: serverURL, with: database))
        clientConfiguration.maximumConnections = max(2, concurrency)
        let client = PQClient(configuration: clientConfiguration, logger: logger)
        /// Drops the scratch database and stops what this run started, on success and on failure alike.
        func cleanUp() async {
            await client.shutdown()
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            await admin.shutdown()
            await server?.stop()
        }
        do {
            try await measure(client: client, count: count, logger: logger)
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// Runs the three measurements on a migrated scratch database and prints the figures.
    private func measure(client: PQClient, count: Int, logger: Logger) async throws {
        try await Migrator(client: client, migrations: try MigrationSet.load(from: URL(fileURLWithPath: options.migrations)), logger: logger)
            .migrate()
        let serverVersion = try await client.query("SHOW server_version")[0].decode(String.self, at: 0)
        let settings = try await client.query("SELECT current_setting('fsync'), current_setting('synchronous_commit')")[0]
            .decode((String, String).self)

        print("generating \(count) events…")
        let events = EventGenerator.make(count: count)
        let averageBytes = events.reduce(0) { $0 + $1.payload.bytes.count } / max(count, 1)
        print("  average payload: \(averageBytes) bytes of JSON; PostgreSQL \(serverVersion), fsync=\(settings.0), synchronous_commit=\(settings.1)")

        // 1. The event store: batches, each committed before the next is handed out.
        let store = EventStore(client: client, logger: logger)
        let batches = stride(from: 0, to: count, by: batchSize).map { Array(events[$0..<min($0 + batchSize, count)]) }
        let next = BatchCursor()
        let appendStart = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while let index = next.take(), index < batches.count {
                        try await store.append(batches[index])
                    }
                }
            }
            try await group.waitForAll()
        }
        let appendSeconds = (ContinuousClock.now - appendStart).seconds
        let stored = try await store.headPosition()
        guard stored == Int64(count) else { throw ValidationError("expected \(count) events in the log, found \(stored)") }

        // 2. The reference: the same rows into a plain table (same columns; no keys, no indexes) with raw COPY.
        try await client.execute(
            """
            CREATE TABLE copy_reference (stream text, type text, source text, idempotency_key text,
                                         occurred_at timestamptz, payload jsonb, metadata jsonb)
            """)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let occurredAtText = events.map { formatter.string(from: $0.occurredAt) }
        // As many COPY streams as appenders, each over its own contiguous share of the rows.
        let streams = concurrency
        let share = (count + streams - 1) / streams
        let copyStart = ContinuousClock.now
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
        let copySeconds = (ContinuousClock.now - copyStart).seconds
        guard copied == count else { throw ValidationError("COPY reported \(copied) rows, expected \(count)") }

        // 3. The subscription read path from position 0: read and decode every event.
        let readStart = ContinuousClock.now
        var cursor = LogCursor.origin
        var read = 0
        var payloadBytes = 0
        while read < count {
            let page = try await store.read(after: cursor, limit: 1000)
            for event in page.events { payloadBytes &+= event.payload.bytes.count }
            read += page.events.count
            cursor = page.nextCursor
            if page.events.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        }
        let readSeconds = (ContinuousClock.now - readStart).seconds
        precondition(payloadBytes > 0)

        let eventsPerSecond = Double(count) / appendSeconds
        let copyRowsPerSecond = Double(count) / copySeconds
        let readPerSecond = Double(count) / readSeconds
        let ratio = eventsPerSecond / copyRowsPerSecond
        print(
            """
            append  \(count) events in batches of \(batchSize), \(concurrency) appender(s): \(format(eventsPerSecond)) events/s (\(format(appendSeconds, digits: 2)) s)
            COPY    \(count) rows into a plain table, \(streams) COPY stream(s): \(format(copyRowsPerSecond)) rows/s (\(format(copySeconds, digits: 2)) s)
            ratio   event store / raw COPY = \(format(ratio, digits: 3))   (target ≥ 0.6)
            read    \(count) events from position 0, decoded:   \(format(readPerSecond)) events/s (\(format(readSeconds, digits: 2)) s)
            """)
        if options.json {
            let figures: [String: Double] = [
                "events_per_s": eventsPerSecond.rounded(), "copy_rows_per_s": copyRowsPerSecond.rounded(),
                "ratio": (ratio * 1000).rounded() / 1000, "read_events_per_s": readPerSecond.rounded(),
                "events": Double(count), "batch_size": Double(batchSize), "concurrency": Double(concurrency),
            ]
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(figures), as: UTF8.self))
        }
    }

    func format(_ value: Double, digits: Int = 0) -> String {
        String(format: "%.\(digits)f", value)
    }
}

/// Hands out batch indexes to concurrent appenders.
final class BatchCursor: Sendable {
    private let counter = Mutex(0)
    func take() -> Int? {
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
