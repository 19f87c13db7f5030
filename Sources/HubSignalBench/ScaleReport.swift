import Foundation

/// The figures of `scale` as a text table (layouts side by side), the issue's targets, JSON, CSV and a PNG plot.
struct ScaleReport {
    /// A figure's key (JSON and CSV) and its label in the table.
    struct Metric {
        var key: String
        var label: String
        var digits = 0
    }

    static let metrics: [Metric] = [
        Metric(key: "events", label: "events in the log when measured"),
        Metric(key: "bytes_per_event", label: "bytes on disk per event (tables, indexes)"),
        Metric(key: "partitions", label: "partitions"),
        Metric(key: "fill_events_per_s", label: "fill: raw COPY, 2 streams (events/s)"),
        Metric(key: "append_events_per_s", label: "store append, 4 × 100 (events/s)"),
        Metric(key: "ceiling_rows_per_s", label: "ceiling: raw COPY into the log (rows/s)"),
        Metric(key: "append_ratio", label: "append / ceiling (target ≥ 0.9)", digits: 3),
        Metric(key: "ingest_events_per_s", label: "HTTP ingest /v1/batch (events/s)"),
        Metric(key: "ingest_ratio", label: "ingest / ceiling", digits: 3),
        Metric(key: "ingest_p99_ms", label: "ingest acknowledgement p99 (ms)", digits: 1),
        Metric(key: "catchup_events_per_s", label: "subscriber catch-up (events/s)"),
        Metric(key: "rebuild_events_per_s", label: "rebuild, whole log (events/s; ≥ 150,000)"),
        Metric(key: "history_p50_ms", label: "history p50 (ms)", digits: 2),
        Metric(key: "history_p99_ms", label: "history p99 (ms; target < 20)", digits: 2),
        Metric(key: "history_stream_p50_ms", label: "history p50, streams only (ms)", digits: 2),
        Metric(key: "history_stream_p99_ms", label: "history p99, streams only (ms)", digits: 2),
        Metric(key: "history_resolve_p50_ms", label: "history: resolving the contact, p50 (ms)", digits: 2),
        Metric(key: "history_blocks_read", label: "history: log blocks read outside shared buffers", digits: 1),
        Metric(key: "history_stream_blocks_read", label: "… streams only", digits: 1),
        Metric(key: "erasure_ms", label: "erasure of one person, median (ms)", digits: 0),
        Metric(key: "erasure_max_ms", label: "erasure, slowest (ms; target < 1,000)", digits: 0),
    ]

    let results: [ScaleResult]
    let sizes: [Int]

    /// `20k`, `1M`, `2.5M`.
    static func sizeLabel(_ size: Int) -> String {
        if size >= 1_000_000 && size % 100_000 == 0 {
            return size % 1_000_000 == 0 ? "\(size / 1_000_000)M" : String(format: "%.1fM", Double(size) / 1e6)
        }
        if size >= 1_000 && size % 1_000 == 0 { return "\(size / 1_000)k" }
        return "\(size)"
    }

    private static func grouped(_ value: Double, digits: Int) -> String {
        if digits > 0 { return String(format: "%.\(digits)f", value) }
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.usesGroupingSeparator = true
        formatter.groupingSeparator = ","
        formatter.maximumFractionDigits = 0
        return formatter.string(from: NSNumber(value: value.rounded())) ?? String(format: "%.0f", value)
    }

    private func result(_ layout: ScaleLog.Layout, _ size: Int) -> ScaleResult? {
        results.first { $0.layout == layout && $0.size == size }
    }

    private var layouts: [ScaleLog.Layout] { ScaleLog.Layout.allCases.filter { layout in results.contains { $0.layout == layout } } }

    /// The table as Markdown (for docs/benchmarks.md): one row per figure, one column per size and layout.
    func markdownTable() -> String {
        let columns = sizes.flatMap { size in layouts.map { (size, $0) } }
        var lines = [
            "| figure | " + columns.map { "\(Self.sizeLabel($0.0)) \($0.1.rawValue)" }.joined(separator: " | ") + " |",
            "| --- |" + String(repeating: " ---: |", count: columns.count),
        ]
        for metric in Self.metrics {
            let cells = columns.map { size, layout -> String in
                result(layout, size)?.figures[metric.key].map { Self.grouped($0, digits: metric.digits) } ?? "–"
            }
            lines.append("| \(metric.label) | " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    /// One row per figure, one column per size and layout (`1M part.`, `1M unpart.`).
    func table() -> String {
        let columns = sizes.flatMap { size in layouts.map { (size, $0) } }
        let headers = columns.map { "\(Self.sizeLabel($0.0)) \($0.1 == .partitioned ? "part." : "unpart.")" }
        let width = max(12, headers.map(\.count).max() ?? 0)
        let labelWidth = Self.metrics.map(\.label.count).max() ?? 0
        func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? padding + text : text + padding
        }
        var lines = [pad("", labelWidth) + headers.map { "  " + pad($0, width, left: true) }.joined()]
        for metric in Self.metrics {
            let cells = columns.map { size, layout -> String in
                guard let value = result(layout, size)?.figures[metric.key] else { return "–" }
                return Self.grouped(value, digits: metric.digits)
            }
            lines.append(pad(metric.label, labelWidth) + cells.map { "  " + pad($0, width, left: true) }.joined())
        }
        return lines.joined(separator: "\n")
    }

    /// Issue 23's targets, each met or not, on the partitioned layout (the new one), with the figures that decide.
    func targets() -> String {
        let layout: ScaleLog.Layout = layouts.contains(.partitioned) ? .partitioned : (layouts.first ?? .partitioned)
        let runs = sizes.compactMap { result(layout, $0) }
        guard let first = runs.first, let last = runs.last else { return "targets: no figures" }
        func figure(_ run: ScaleResult, _ key: String) -> Double? { run.figures[key] }
        func verdict(_ met: Bool) -> String { met ? "met" : "NOT met" }
        var lines = ["targets (\(layout.rawValue) layout; smallest size \(Self.sizeLabel(first.size)), largest \(Self.sizeLabel(last.size))):"]
        let ratios = runs.compactMap { figure($0, "append_ratio") }
        lines.append(
            "  append ≥ 0.9 of the ceiling in every run: \(verdict(ratios.allSatisfy { $0 >= 0.9 })) (\(ratios.map { String(format: "%.3f", $0) }.joined(separator: ", ")))")
        for (key, name) in [("append_events_per_s", "append"), ("ingest_events_per_s", "ingest")] {
            if let small = figure(first, key), let large = figure(last, key), small > 0 {
                let change = large / small - 1
                lines.append(
                    "  \(name) at \(Self.sizeLabel(last.size)) within 15 % of \(Self.sizeLabel(first.size)): \(verdict(change >= -0.15)) (\(String(format: "%+.1f", change * 100)) %)")
            }
        }
        if let p99 = figure(last, "history_p99_ms") {
            let streams = figure(last, "history_stream_p99_ms").map { String(format: "; streams only %.2f ms", $0) } ?? ""
            lines.append("  history p99 < 20 ms at \(Self.sizeLabel(last.size)): \(verdict(p99 < 20)) (\(String(format: "%.2f", p99)) ms\(streams))")
        }
        if let erasure = figure(last, "erasure_max_ms") {
            lines.append("  erasure of one person < 1 s at \(Self.sizeLabel(last.size)): \(verdict(erasure < 1000)) (slowest \(String(format: "%.0f", erasure)) ms)")
        }
        let rebuilds = runs.compactMap { figure($0, "rebuild_events_per_s") }
        if !rebuilds.isEmpty {
            lines.append(
                "  rebuild ≥ 150,000 events/s at every size: \(verdict(rebuilds.allSatisfy { $0 >= 150_000 })) (\(rebuilds.map { Self.grouped($0, digits: 0) }.joined(separator: ", ")))")
        }
        return lines.joined(separator: "\n")
    }

    /// `layout,size,<every metric key>`, one line per layout and size; a figure not measured is empty.
    func csv() -> String {
        var lines = [(["layout", "size"] + Self.metrics.map(\.key)).joined(separator: ",")]
        for layout in layouts {
            for size in sizes {
                guard let run = result(layout, size) else { continue }
                let cells = Self.metrics.map { metric in run.figures[metric.key].map { String(format: "%.\(metric.digits)f", $0) } ?? "" }
                lines.append(([layout.rawValue, String(size)] + cells).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The figures of a `csv()` text.
    static func results(csv: String) throws -> [ScaleResult] {
        let lines = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let header = lines.first, header.count >= 2, header[0] == "layout", header[1] == "size" else {
            throw BenchError("not a CSV of hubsignal-bench scale: its first line must start with layout,size")
        }
        return try lines.dropFirst().map { cells in
            guard cells.count == header.count, let layout = ScaleLog.Layout(rawValue: cells[0]), let size = Int(cells[1]) else {
                throw BenchError("a line of the CSV is not layout,size,figures…: \(cells.joined(separator: ","))")
            }
            var figures: [String: Double] = [:]
            for (key, cell) in zip(header.dropFirst(2), cells.dropFirst(2)) where !cell.isEmpty {
                guard let value = Double(cell) else { throw BenchError("\(key) is not a number: \(cell)") }
                figures[key] = value
            }
            return ScaleResult(layout: layout, size: size, figures: figures)
        }
    }

    /// `{"runs": [{"layout", "size", "figures": {…}}]}` on one line.
    func json() throws -> String {
        struct Run: Encodable {
            var layout: String
            var size: Int
            var figures: [String: Double]
        }
        struct Document: Encodable { var runs: [Run] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let document = Document(runs: results.map { Run(layout: $0.layout.rawValue, size: $0.size, figures: $0.figures) })
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }

    /// Runs `gnuplot` on `script` with the CSV and PNG paths as its `csv` and `png` variables.
    static func draw(csv: String, png: String, script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gnuplot", "-e", "csv='\(csv)'; png='\(png)'", script]
        do {
            try process.run()
        } catch {
            throw BenchError("could not run gnuplot (Debian: apt-get install gnuplot-nox): \(error)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("gnuplot \(script) exited with \(process.terminationStatus) (Debian: apt-get install gnuplot-nox)")
        }
    }
}
