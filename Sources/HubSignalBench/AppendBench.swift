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

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events
        let batchSize = self.batchSize
        let concurrency = self.concurrency
        try await BenchEnvironment.with(options: options, maximumConnections: concurrency, logger: logger) { environment in
            print("generating \(count) events…")
            let events = EventGenerator.make(count: count)
            print("  average payload: \(events.reduce(0) { $0 + $1.payload.bytes.count } / max(count, 1)) bytes of JSON")

            // 1. The event store: batches, each committed before its appender takes the next.
            let store = EventStore(client: environment.client, logger: logger)
            let batches = stride(from: 0, to: count, by: batchSize).map { Array(events[$0..<min($0 + batchSize, count)]) }
            try await environment.quiesce()
            let next = WorkCursor()
            let appendStart = ContinuousClock.now
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
            let appendSeconds = (ContinuousClock.now - appendStart).seconds
            let stored = try await store.headPosition()
            guard stored == Int64(count) else { throw BenchError("expected \(count) events in the log, found \(stored)") }

            // 2. The reference.
            let copyRowsPerSecond = try await environment.copyReference(events, streams: concurrency)

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
            let readPerSecond = Double(count) / readSeconds
            let ratio = eventsPerSecond / copyRowsPerSecond
            try report(
                """
                append  \(count) events in batches of \(batchSize), \(concurrency) appender(s): \(format(eventsPerSecond)) events/s (\(format(appendSeconds, digits: 2)) s)
                COPY    \(count) rows into a plain table, \(concurrency) COPY stream(s): \(format(copyRowsPerSecond)) rows/s
                ratio   event store / raw COPY = \(format(ratio, digits: 3))   (target ≥ 0.6)
                read    \(count) events from position 0, decoded:   \(format(readPerSecond)) events/s (\(format(readSeconds, digits: 2)) s)
                """,
                figures: [
                    "events_per_s": eventsPerSecond.rounded(), "copy_rows_per_s": copyRowsPerSecond.rounded(),
                    "ratio": (ratio * 1000).rounded() / 1000, "read_events_per_s": readPerSecond.rounded(),
                    "events": Double(count), "batch_size": Double(batchSize), "concurrency": Double(concurrency),
                ], json: options.json)
        }
    }
}
