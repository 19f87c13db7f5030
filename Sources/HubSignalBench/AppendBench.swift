import ArgumentParser
import EventStore
import Foundation
import Logging
import PQ

/// `hubsignal-bench append`: the event store's append throughput against raw COPY, and the read path.
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
    @Option(help: "Append statements the event store runs at once (group commit: appends beyond wait and are written together).")
    var appendWriters = 2
    @Flag(help: "Also measure the table's own ceiling: raw COPY into a copy of the events table (same columns, indexes, constraints and triggers) against raw COPY into the plain table, in alternating rounds.")
    var ceiling = false
    @Option(help: "Alternating rounds of appends and COPY over consecutive slices of the events (both measured under the same conditions).")
    var rounds = 5

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events
        let batchSize = self.batchSize
        let concurrency = self.concurrency
        let rounds = self.rounds
        let appendWriters = self.appendWriters
        let ceiling = self.ceiling
        try await BenchEnvironment.with(options: options, maximumConnections: concurrency, logger: logger) { environment in
            print("generating \(count) events…")
            let events = EventGenerator.make(count: count)
            print("  average payload: \(events.reduce(0) { $0 + $1.payload.bytes.count } / max(count, 1)) bytes of JSON")

            // 1. The event store (batches, each committed before its appender takes the next) and 2. the reference,
            //    in alternating rounds.
            let store = EventStore(client: environment.client, logger: logger, appendWriters: appendWriters)
            let (appendSeconds, copySeconds, appendCPU, copyCPU) = try await environment.measureInRounds(
                events, rounds: rounds, copyStreams: concurrency, unit: batchSize
            ) { (range: Range<Int>) in
                let batches = stride(from: range.lowerBound, to: range.upperBound, by: batchSize).map {
                    Array(events[$0..<min($0 + batchSize, range.upperBound)])
                }
                let next = WorkCursor()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<concurrency {
                        group.addTask {
                            while case let index = next.take(), index < batches.count {
                                try await store.append(batches[index])
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let stored = try await store.headPosition()
            guard stored == Int64(count) else { throw BenchError("expected \(count) events in the log, found \(stored)") }
            let copyRowsPerSecond = Double(count) / copySeconds

            // 3. The subscription read path from position 0: read and decode every event.
            try await environment.quiesce()
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
            let readPerSecond = Double(count) / readSeconds
            let ratio = eventsPerSecond / copyRowsPerSecond
            // 4. Optionally, the ceiling of any append path into this table: raw COPY into a copy of `events`.
            var ceilingLine = ""
            var ceilingFigures: [String: Double] = [:]
            if ceiling {
                // On the partitioned layout the same tables are the keys and a partition's indexes (a plain table).
                let partitioned = try await environment.client.query(
                    "SELECT relkind = 'p' FROM pg_class WHERE oid = 'events'::regclass")[0].decode(Bool.self, at: 0)
                try await environment.client.execute("CREATE TABLE events_ceiling (LIKE events INCLUDING ALL)")
                if partitioned {
                    try await environment.client.execute("CREATE TABLE event_keys_ceiling (LIKE event_keys INCLUDING ALL)")
                }
                for trigger in ["events_append_only", "events_notify"] {
                    let definition = try await environment.client.query(
                        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = \(trigger) AND tgrelid = 'events'::regclass")[0]
                        .decode(String.self, at: 0)
                    try await environment.client.execute(
                        PQQuery(unsafeSQL: definition.replacingOccurrences(of: " ON public.events ", with: " ON public.events_ceiling ")))
                }
                let indexes = try await environment.client.query(
                    "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ('events_ceiling', 'event_keys_ceiling')")[0]
                    .decode(Int64.self, at: 0)
                let copier = try await CopyReference(environment: environment, events: events, creatingTable: false)
                let measured = try await environment.measureInRounds(
                    events, rounds: rounds, copyStreams: concurrency,
                    vacuuming: partitioned ? ["events_ceiling", "event_keys_ceiling"] : ["events_ceiling"]
                ) { (range: Range<Int>) in
                    _ = try await copier.copy(
                        range, streams: concurrency, into: "events_ceiling", keysTable: partitioned ? "event_keys_ceiling" : nil)
                }
                try await environment.client.execute("DROP TABLE events_ceiling")
                if partitioned { try await environment.client.execute("DROP TABLE event_keys_ceiling") }
                let ceilingRatio = measured.reference / measured.ours
                ceilingLine = "\nceiling raw COPY into a copy of \(partitioned ? "events and event_keys" : "events") (their \(indexes) indexes, constraints, triggers), \(concurrency) stream(s): \(format(Double(count) / measured.ours)) rows/s = \(format(ceilingRatio, digits: 3)) of raw COPY into the plain table (\(format(Double(count) / measured.reference)) rows/s)"
                ceilingFigures = ["ceiling_rows_per_s": (Double(count) / measured.ours).rounded(), "ceiling_ratio": (ceilingRatio * 1000).rounded() / 1000]
            }

            try report(
                """
                append  \(count) events in batches of \(batchSize), \(concurrency) appender(s): \(format(eventsPerSecond)) events/s (\(format(appendSeconds, digits: 2)) s)
                COPY    \(count) rows into a plain table, \(concurrency) COPY stream(s): \(format(copyRowsPerSecond)) rows/s (\(format(copySeconds, digits: 2)) s; \(rounds) alternating rounds)
                ratio   event store / raw COPY = \(format(ratio, digits: 3))   (target ≥ 0.6)
                cpu     \(cpuLine(ours: appendCPU, reference: copyCPU, count: count))
                read    \(count) events from position 0, decoded:   \(format(readPerSecond)) events/s (\(format(readSeconds, digits: 2)) s)\(ceilingLine)
                """,
                figures: [
                    "events_per_s": eventsPerSecond.rounded(), "copy_rows_per_s": copyRowsPerSecond.rounded(),
                    "ratio": (ratio * 1000).rounded() / 1000, "read_events_per_s": readPerSecond.rounded(),
                    "events": Double(count), "batch_size": Double(batchSize), "concurrency": Double(concurrency),
                    "append_writers": Double(appendWriters), "rounds": Double(rounds),
                ].merging(cpuFigures(ours: appendCPU, reference: copyCPU, count: count)) { first, _ in first }
                    .merging(ceilingFigures) { first, _ in first }, json: options.json)
        }
    }
}
