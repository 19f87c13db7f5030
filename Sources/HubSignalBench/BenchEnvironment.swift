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

    /// Runs `body` with a fresh environment and cleans up on success and failure alike; with `throughVersion`, only the
    /// migrations up to that version are applied (an older schema from the same folder).
    static func with<T>(
        options: BenchOptions, maximumConnections: Int, logger: Logger, throughVersion: Int? = nil,
        _ body: (BenchEnvironment) async throws -> T
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
        // VACUUM, CHECKPOINT and COPY of a million events between phases take as long as they take.
        clientConfiguration.statementTimeout = nil
        let client = PQClient(configuration: clientConfiguration, logger: logger)
        func cleanUp() async {
            await client.shutdown()
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: database) WITH (FORCE)")
            await admin.shutdown()
            await server?.stop()
        }
        do {
            try await admin.execute("CREATE DATABASE \(identifier: database)")
            var migrations = try MigrationSet.load(from: URL(fileURLWithPath: options.migrations))
            if let throughVersion {
                migrations = try MigrationSet(migrations.migrations.filter { $0.version <= throughVersion })
            }
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
    /// event log and `tables` (otherwise autovacuum of the rows just written runs during the next phase) and writes a
    /// checkpoint (needs superuser or `pg_checkpoint`; skipped with a note otherwise).
    func quiesce(also tables: [String] = []) async throws {
        for table in ["events"] + tables {
            try await client.execute("VACUUM (ANALYZE) \(identifier: table)")
        }
        do {
            try await client.execute("CHECKPOINT")
        } catch let error as PQError where error.code == .server {
            print("  note: CHECKPOINT not allowed for this user; phases may overlap with background writes")
        }
    }

    /// Measures `ours` and the raw-COPY reference in `rounds` alternating rounds over consecutive slices of
    /// `events` (ours on a slice, then COPY of the same slice, then the next slice), each phase after `quiesce()`
    /// (which also vacuums `tables`). Returns the seconds each spent in total and the CPU time the whole machine spent
    /// in each (user and system time of every process from `/proc/stat`, idle and stolen time excluded; nil where
    /// `/proc/stat` cannot be read). Alternating puts both under the same conditions — on a shared machine the speed
    /// available drifts by ±25 % over a minute — and both tables grow to the same size; CPU per event is steadier than
    /// wall time, so it shows what a change saves.
    func measureInRounds(
        _ events: [NewEvent], rounds: Int, copyStreams: Int, unit: Int = 1, vacuuming tables: [String] = [],
        ours: (Range<Int>) async throws -> Void
    ) async throws -> (ours: Double, reference: Double, oursCPU: Double?, referenceCPU: Double?) {
        let reference = try await CopyReference(environment: self, events: events)
        // Slices are whole multiples of `unit` (a batch or a request), so the rounds together cover every unit once.
        let units = (events.count + unit - 1) / unit
        let rounds = max(1, min(rounds, units))
        var oursSeconds = 0.0
        var referenceSeconds = 0.0
        var oursCPU: Double? = 0
        var referenceCPU: Double? = 0
        for round in 0..<rounds {
            let range = min(events.count, units * round / rounds * unit)..<min(events.count, units * (round + 1) / rounds * unit)
            try await quiesce(also: [CopyReference.table] + tables)
            var cpuStart = MachineCPU.busySeconds()
            let start = ContinuousClock.now
            try await ours(range)
            oursSeconds += (ContinuousClock.now - start).seconds
            oursCPU = MachineCPU.add(since: cpuStart, to: oursCPU)
            try await quiesce(also: [CopyReference.table] + tables)
            cpuStart = MachineCPU.busySeconds()
            referenceSeconds += try await reference.copy(range, streams: copyStreams)
            referenceCPU = MachineCPU.add(since: cpuStart, to: referenceCPU)
        }
        try await reference.drop()
        return (oursSeconds, referenceSeconds, oursCPU, referenceCPU)
    }
}

/// The CPU time the machine has spent busy since boot, from `/proc/stat`.
enum MachineCPU {
    /// User, nice, system, irq and softirq time of all CPUs in seconds (idle, iowait and steal excluded), or nil.
    static func busySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 7 else { return nil }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6]) / ticksPerSecond
    }

    /// `total` plus the busy time since `start`; nil when any of them cannot be known.
    static func add(since start: Double?, to total: Double?) -> Double? {
        guard let start, let total, let now = busySeconds() else { return nil }
        return total + now - start
    }
}

/// The reference table of the benches: the event columns, no keys, no indexes, filled with raw `COPY … FROM STDIN`.
struct CopyReference {
    static let table = "copy_reference"
    let client: PQClient
    let events: [NewEvent]
    let occurredAtText: [String]

    /// Prepares the rows; creates the reference table unless `creatingTable` is false (to copy into another table).
    init(environment: BenchEnvironment, events: [NewEvent], creatingTable: Bool = true) async throws {
        client = environment.client
        self.events = events
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        occurredAtText = events.map { formatter.string(from: $0.occurredAt) }
        if creatingTable {
            try await createTable()
        }
    }

    private func createTable() async throws {
        try await client.execute(
            """
            CREATE TABLE \(identifier: Self.table) (stream text, type text, source text, idempotency_key text,
                                         occurred_at timestamptz, payload jsonb, metadata jsonb)
            """)
    }

    /// Copies `range` of the events into `table` (the reference table by default) over `streams` parallel COPY
    /// streams; returns the seconds it took. With `keysTable` (the partitioned layout's `event_keys`), each stream
    /// copies the keys there and the events with the same positions (index + 1) into `table`, in one transaction.
    func copy(_ range: Range<Int>, streams: Int, into table: String = CopyReference.table, keysTable: String? = nil) async throws -> Double {
        let share = (range.count + streams - 1) / streams
        let (client, events, occurredAtText) = (self.client, self.events, self.occurredAtText)
        let start = ContinuousClock.now
        let copied = try await withThrowingTaskGroup(of: Int.self) { group in
            for stream in 0..<streams {
                let slice = min(range.upperBound, range.lowerBound + stream * share)..<min(range.upperBound, range.lowerBound + (stream + 1) * share)
                if slice.isEmpty { continue }
                group.addTask {
                    if let keysTable {
                        return try await client.withTransaction { connection in
                            _ = try await connection.copyIn(
                                "COPY \(identifier: keysTable) (source, idempotency_key, position) FROM STDIN"
                            ) { writer in
                                for index in slice {
                                    writer.append(events[index].source.rawValue)
                                    writer.append(events[index].idempotencyKey)
                                    writer.append(String(index + 1))
                                    try writer.endRow()
                                }
                            }
                            return try await connection.copyIn(
                                "COPY \(identifier: table) (position, stream, type, source, idempotency_key, occurred_at, payload, metadata) FROM STDIN"
                            ) { writer in
                                for index in slice {
                                    writer.append(String(index + 1))
                                    try Self.writeRow(events[index], occurredAt: occurredAtText[index], into: &writer)
                                }
                            }
                        }
                    }
                    return try await client.withConnection { connection in
                        try await connection.copyIn(
                            "COPY \(identifier: table) (stream, type, source, idempotency_key, occurred_at, payload, metadata) FROM STDIN"
                        ) { writer in
                            for index in slice { try Self.writeRow(events[index], occurredAt: occurredAtText[index], into: &writer) }
                        }
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard copied == range.count else { throw BenchError("COPY reported \(copied) rows, expected \(range.count)") }
        return seconds
    }

    /// Writes an event's columns (stream to metadata) and ends the row.
    static func writeRow(_ event: NewEvent, occurredAt: String, into writer: inout PQCopyWriter) throws {
        writer.append(event.stream)
        writer.append(event.type.rawValue)
        writer.append(event.source.rawValue)
        writer.append(event.idempotencyKey)
        writer.append(occurredAt)
        writer.append(bytes: event.payload.bytes)
        writer.append(bytes: event.metadata.bytes)
        try writer.endRow()
    }

    func drop() async throws {
        try await client.execute("DROP TABLE \(identifier: Self.table)")
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

/// "machine CPU per event: ours X µs, reference Y µs (Z×)", or a note that it could not be measured.
func cpuLine(ours: Double?, reference: Double?, count: Int) -> String {
    guard let ours, let reference, count > 0, reference > 0 else { return "machine CPU per event: not measured (no /proc/stat)" }
    let oursMicros = ours / Double(count) * 1e6
    let referenceMicros = reference / Double(count) * 1e6
    return "machine CPU per event (all processes): ours \(format(oursMicros, digits: 1)) µs, raw COPY \(format(referenceMicros, digits: 1)) µs (COPY / ours = \(format(referenceMicros / oursMicros, digits: 3)))"
}

/// The CPU figures for `--json`: machine CPU microseconds per event of ours and of the reference (empty when unmeasured).
func cpuFigures(ours: Double?, reference: Double?, count: Int) -> [String: Double] {
    guard let ours, let reference, count > 0 else { return [:] }
    return [
        "cpu_us_per_event": (ours / Double(count) * 1e7).rounded() / 10,
        "copy_cpu_us_per_event": (reference / Double(count) * 1e7).rounded() / 10,
    ]
}
