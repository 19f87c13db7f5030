import ArgumentParser
import EventStore
import Foundation
import Logging

/// `hubsignal-bench scale`: how each cost grows with the size of the log, on the partitioned layout and on today's.
struct ScaleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale",
        abstract: "Fill the log to each of --sizes and measure, at each size, every cost that could grow with it.",
        discussion: """
            For each layout (the partitioned log of migration 0021 and the unpartitioned table of migrations up to \
            0020, both from --migrations), on a fresh durable PostgreSQL: fill the log with raw COPY of realistic \
            Segment events (50,000 users; keys into event_keys too on the partitioned layout) up to each size, then \
            measure the store's append against raw COPY into the same tables (the ceiling), HTTP ingestion \
            (/v1/batch), a subscriber catching up from near the head, a rebuild of the read models from the whole log, \
            one contact's history as `hubsignal events` reads it (p50/p99) and one person's erasure. Every \
            measurement writes into the log: the sizes are where each round starts. Prints a table with the layouts \
            side by side; --json, --csv and --plot write the same figures.
            """)

    @Option(help: "Log sizes to measure at, ascending (k = thousand, M = million), e.g. 1M,10M,30M.") var sizes = "20k,100k"
    @Option(help: "Layouts to run: partitioned, unpartitioned or both (the unpartitioned one applies migrations up to 0020).")
    var layout = "both"
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"
    @Option(help: "Events appended through the store, and as many copied raw, at each size (alternating rounds).") var sample = 100_000
    @Option(help: "Events posted to /v1/batch at each size.") var ingestSample = 100_000
    @Option(help: "Alternating rounds of each throughput measurement.") var rounds = 3
    @Option(help: "Events a subscriber reads to catch up from near the head.") var catchUp = 200_000
    @Option(help: "Contacts whose history is read, at random (p50/p99 over them).") var contacts = 200
    @Option(help: "Recent positions `hubsignal events` scans on other streams (its --scan-window; the CLI's default).")
    var historyWindow: Int64 = 100_000
    @Option(help: "People erased at each size, one at a time.") var erasures = 2
    @Option(help: "Rebuild the read models only at sizes up to this many events (the first size always: the history and the erasure need the read models).")
    var rebuildUpTo = "1000M"
    @Option(help: "Write the figures as CSV to this file.") var csv: String?
    @Option(help: "Draw the figures into this PNG with gnuplot and --plot-script (the CSV goes next to it unless --csv).")
    var plot: String?
    @Option(help: "The gnuplot script for --plot.") var plotScript = "docs/benchmarks/scale.gnuplot"
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Flag(help: "Print the table in Markdown (for docs/benchmarks.md) instead of text.") var markdown = false
    @Option(
        help: "Measure nothing: report the figures of earlier runs' --csv files instead (comma-separated, e.g. one per layout), with the table, targets, --csv, --plot and --json.")
    var fromCsv: String?

    func validate() throws {
        let sizes = try parsedSizes()
        guard !sizes.isEmpty, sizes == sizes.sorted(), Set(sizes).count == sizes.count else {
            throw ValidationError("--sizes must list distinct sizes in ascending order")
        }
        _ = try layouts()
        _ = try Self.count(rebuildUpTo)
        guard sample >= 100, ingestSample >= 100, rounds > 0, catchUp > 0, contacts > 0, erasures >= 0, historyWindow >= 0 else {
            throw ValidationError("--sample and --ingest-sample need at least 100 events; --rounds, --catch-up, --contacts must be positive")
        }
    }

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let sizes = try parsedSizes()
        let rebuildLimit = try Self.count(rebuildUpTo)
        var results: [ScaleResult] = []
        if let fromCsv {
            for path in fromCsv.split(separator: ",") {
                results += try ScaleReport.results(csv: try String(contentsOfFile: String(path), encoding: .utf8))
            }
            try output(ScaleReport(results: results, sizes: Array(Set(results.map(\.size))).sorted()))
            return
        }
        for layout in try layouts() {
            print("== \(layout.rawValue) layout")
            var options = try BenchOptions.parse([])
            options.migrations = migrations
            let measured = try await BenchEnvironment.with(
                options: options, maximumConnections: 10, logger: logger,
                throughVersion: layout == .unpartitioned ? ScaleLog.lastUnpartitionedVersion : nil
            ) { environment in
                let earlier = results
                return try await measure(layout: layout, sizes: sizes, rebuildLimit: rebuildLimit, environment: environment, logger: logger) {
                    // What is measured so far, in case a later size fails (the disk fills up, the run is stopped).
                    if let csv { try ScaleReport(results: earlier + $0, sizes: sizes).csv().write(toFile: csv, atomically: true, encoding: .utf8) }
                }
            }
            results += measured
        }
        try output(ScaleReport(results: results, sizes: sizes))
    }

    /// Prints the table and the targets, and writes what --csv, --plot and --json ask for.
    private func output(_ report: ScaleReport) throws {
        print(markdown ? report.markdownTable() : report.table())
        print(report.targets())
        if let csv {
            try report.csv().write(toFile: csv, atomically: true, encoding: .utf8)
            print("CSV: \(csv)")
        }
        if let plot {
            let data = csv ?? (plot.hasSuffix(".png") ? String(plot.dropLast(4)) : plot) + ".csv"
            if csv == nil { try report.csv().write(toFile: data, atomically: true, encoding: .utf8) }
            try ScaleReport.draw(csv: data, png: plot, script: plotScript)
            print("plot: \(plot) (from \(data))")
        }
        if json { print(try report.json()) }
    }

    /// Fills and measures one layout at every size; hands `measured` the figures so far after each size.
    private func measure(
        layout: ScaleLog.Layout, sizes: [Int], rebuildLimit: Int, environment: BenchEnvironment, logger: Logger,
        measured: ([ScaleResult]) throws -> Void
    ) async throws -> [ScaleResult] {
        let log = try await ScaleLog(client: environment.client)
        guard log.layout == layout else {
            throw BenchError(
                "the migrations in \(migrations) build the \(log.layout.rawValue) layout, not the \(layout.rawValue) one "
                    + "(the partitioned log is migration 0021's)")
        }
        let store = EventStore(client: environment.client, logger: logger, appendWriters: 2)
        let probes = ScaleProbes(environment: environment, log: log, store: store, logger: logger)
        print("generating the fill's \(ScaleLog.poolSize) distinct events (repeated with new keys)…")
        let pool = ScaleLog.rows(ScaleLog.asIngested(EventGenerator.make(count: ScaleLog.poolSize, seed: 1)))
        var filled = 0
        var erased: Set<String> = []
        var results: [ScaleResult] = []
        for (index, size) in sizes.enumerated() {
            let sizeStart = ContinuousClock.now
            var figures: [String: Double] = [:]
            // 1. Fill with raw COPY up to the size (the measurements of the previous size count towards it).
            let head = Int(try await log.head())
            if head < size {
                let missing = size - head
                let first = filled
                let seconds = try await log.copy(count: missing, streams: 2, chunk: ScaleLog.fillChunk) { offset in
                    var row = pool[(first + offset) % pool.count]
                    row.event.idempotencyKey = "fill-\(first + offset)"
                    return row
                }
                filled += missing
                figures["fill_events_per_s"] = (Double(missing) / seconds).rounded()
                print("  filled \(missing) events to \(size): \(format(Double(missing) / seconds)) events/s (\(format(seconds, digits: 1)) s)")
            }
            let vacuumStart = ContinuousClock.now
            try await probes.quiesce()
            let events = Int(try await log.count())
            let bytes = try await log.bytesOnDisk()
            figures["events"] = Double(events)
            figures["bytes_per_event"] = (Double(bytes) / Double(max(events, 1))).rounded()
            figures["partitions"] = Double(try await log.partitionCount())
            print("  \(events) events, \(format(Double(bytes) / 1e9, digits: 2)) GB on disk (\(format(Double(bytes) / Double(max(events, 1)))) bytes per event with indexes), vacuum \(format((ContinuousClock.now - vacuumStart).seconds, digits: 1)) s")

            // 2. Append and its ceiling, alternating. Both layouts get the same events at the same size.
            let appended = ScaleLog.asIngested(EventGenerator.make(count: sample, seed: 100 + UInt64(index)))
            let copied = ScaleLog.rows(appended.enumerated().map { offset, event in
                var event = event
                event.idempotencyKey = "ceiling-\(index)-\(offset)"
                return event
            })
            let (append, ceiling) = try await probes.appendAndCeiling(appended, copying: copied, rounds: rounds, concurrency: 4, batchSize: 100)
            figures["append_events_per_s"] = append.rounded()
            figures["ceiling_rows_per_s"] = ceiling.rounded()
            figures["append_ratio"] = (append / ceiling * 1000).rounded() / 1000
            print("  append \(format(append)) events/s; raw COPY into the same tables \(format(ceiling)) rows/s; ratio \(format(append / ceiling, digits: 3))")

            // 3. HTTP ingestion.
            let (ingest, p99) = try await probes.ingest(
                EventGenerator.make(count: ingestSample, seed: 200 + UInt64(index)), rounds: rounds, clients: 8, batchSize: 100)
            figures["ingest_events_per_s"] = ingest.rounded()
            figures["ingest_ratio"] = (ingest / ceiling * 1000).rounded() / 1000
            figures["ingest_p99_ms"] = (p99 * 10).rounded() / 10
            print("  ingest \(format(ingest)) events/s (\(format(ingest / ceiling, digits: 3)) of the ceiling), p99 \(format(p99, digits: 1)) ms")

            // 4. A subscriber catching up.
            try await probes.quiesce()
            let catchUpRate = try await probes.catchUp(catchUp)
            figures["catchup_events_per_s"] = catchUpRate.rounded()
            print("  catch-up of \(catchUp) events: \(format(catchUpRate)) events/s")

            // 5. The rebuild (the read models the history and the erasure resolve people with).
            if index == 0 || size <= rebuildLimit {
                try await probes.quiesce()
                let rebuildStart = ContinuousClock.now
                let rate = try await probes.rebuild()
                figures["rebuild_events_per_s"] = rate.rounded()
                print("  rebuild of the whole log: \(format(rate)) events/s (\(format((ContinuousClock.now - rebuildStart).seconds, digits: 1)) s)")
            } else {
                print("  rebuild skipped (--rebuild-up-to \(rebuildUpTo)); the read models are the last rebuild's")
            }

            // 6. One contact's history, with the CLI's recent window and with none (the contact's streams only).
            try await probes.quiesce()
            let people = try await probes.knownUserIDs(contacts, excluding: erased)
            let windowed = try await probes.history(people, window: historyWindow)
            let streamOnly = try await probes.history(people, window: 0)
            figures["history_p50_ms"] = (windowed.p50 * 100).rounded() / 100
            figures["history_p99_ms"] = (windowed.p99 * 100).rounded() / 100
            figures["history_stream_p50_ms"] = (streamOnly.p50 * 100).rounded() / 100
            figures["history_stream_p99_ms"] = (streamOnly.p99 * 100).rounded() / 100
            figures["history_resolve_p50_ms"] = (streamOnly.resolveP50 * 100).rounded() / 100
            figures["history_blocks_read"] = (windowed.blocksRead * 10).rounded() / 10
            figures["history_stream_blocks_read"] = (streamOnly.blocksRead * 10).rounded() / 10
            print("  history of \(people.count) contacts: p50 \(format(windowed.p50, digits: 2)) ms, p99 \(format(windowed.p99, digits: 2)) ms (scan window \(historyWindow); \(format(windowed.blocksRead, digits: 1)) blocks read from outside shared buffers per history); streams only: p50 \(format(streamOnly.p50, digits: 2)) ms, p99 \(format(streamOnly.p99, digits: 2)) ms (\(format(streamOnly.blocksRead, digits: 1)) blocks); resolving the contact: p50 \(format(streamOnly.resolveP50, digits: 2)) ms")

            // 7. Erasures, each of a person not erased before.
            if erasures > 0 {
                let targets = try await probes.knownUserIDs(erasures, excluding: erased)
                erased.formUnion(targets)
                try await probes.quiesce()
                let (milliseconds, redacted) = try await probes.erase(targets)
                let sorted = milliseconds.sorted()
                figures["erasure_ms"] = (ScaleProbes.percentile(sorted, 0.5) * 10).rounded() / 10
                figures["erasure_max_ms"] = ((sorted.last ?? 0) * 10).rounded() / 10
                print("  erasure of \(targets.count) people (\(redacted) events redacted): \(sorted.map { format($0, digits: 0) + " ms" }.joined(separator: ", "))")
            }
            results.append(ScaleResult(layout: layout, size: size, figures: figures))
            try measured(results)
            print("  (\(ScaleReport.sizeLabel(size)) took \(format((ContinuousClock.now - sizeStart).seconds, digits: 0)) s in all)")
        }
        return results
    }

    private func layouts() throws -> [ScaleLog.Layout] {
        if layout == "both" { return [.partitioned, .unpartitioned] }
        guard let one = ScaleLog.Layout(rawValue: layout) else {
            throw ValidationError("--layout must be partitioned, unpartitioned or both")
        }
        return [one]
    }

    private func parsedSizes() throws -> [Int] {
        try sizes.split(separator: ",").map { try Self.count(String($0)) }
    }

    /// `20k`, `1M`, `30M` or a plain number, as a count.
    static func count(_ text: String) throws -> Int {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let (digits, unit): (Substring, Int) =
            switch trimmed.last {
            case "k", "K": (trimmed.dropLast(), 1_000)
            case "m", "M": (trimmed.dropLast(), 1_000_000)
            default: (Substring(trimmed), 1)
            }
        guard let value = Double(digits), value > 0 else { throw ValidationError("\(text) is not a size (e.g. 20k, 1M, 30M)") }
        return Int(value * Double(unit))
    }
}

/// One layout's figures at one size of the log.
struct ScaleResult: Sendable {
    var layout: ScaleLog.Layout
    var size: Int
    var figures: [String: Double]
}
