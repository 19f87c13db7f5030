import App
import ArgumentParser
import AsyncHTTPClient
import Domain
import EventStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import PQ
import ServiceLifecycle
import Synchronization

/// `hubsignal-bench ingest`: end-to-end ingestion through HTTP against raw COPY.
struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: """
            Run the HTTP server on a durable PostgreSQL, post /v1/batch requests of realistic events from concurrent \
            HTTP clients (or, with --path /v1/t, one event per request as the browser library sends them), and copy \
            the same events into a plain table with raw COPY (one stream per core).
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Events per /v1/batch request.") var batchSize = 100
    @Option(help: "Concurrent HTTP clients (default: 8 posting batches, 64 posting one event per request).") var clients: Int?
    @Option(
        help: """
            The path posted to: /v1/batch (or /v1/import, /v1/b) with --batch-size events per request and the write key \
            in a Basic header; or a one-event path, /v1/t (analytics.js's: each event to /v1/t, /v1/i or /v1/p by its \
            type) or /v1/track (/v1/track, /v1/identify, /v1/page), one event per request as analytics-next 1.84 sends \
            from a page: text/plain, the write key in a Basic header and in the body, X-Retry-Count and an Origin.
            """)
    var path = "/v1/batch"
    @Option(help: "Alternating rounds of HTTP ingestion and COPY over consecutive slices of the events (both measured under the same conditions).")
    var rounds = 5

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events
        let route = try IngestRoute(path)
        let batchSize = route.isOneEventPerRequest ? 1 : self.batchSize
        let clients = self.clients ?? (route.isOneEventPerRequest ? 64 : 8)
        let rounds = self.rounds
        let writeKey = "bench-write-key"
        // Batches keep the pool of earlier runs (one connection per client); one-event clients share serve's default.
        let connections = route.isOneEventPerRequest ? AppConfiguration(databaseURL: "").databaseMaximumConnections : clients
        try await BenchEnvironment.with(options: options, maximumConnections: connections, logger: logger) { environment in
            print("generating \(count) events…")
            let events = EventGenerator.make(count: count)
            let requests: [(path: String, body: ByteBuffer)]
            if route.isOneEventPerRequest {
                // The message as analytics-next posts it: the call's JSON with the write key added.
                let suffix = Array(#","writeKey":"\#(writeKey)"}"#.utf8)
                requests = events.map { event in
                    var body = event.payload.bytes
                    body.removeLast()
                    body.append(contentsOf: suffix)
                    return (route.path(for: event.type), ByteBuffer(bytes: body))
                }
            } else {
                requests = stride(from: 0, to: count, by: batchSize).map { start in
                    var body = Array(#"{"batch":["#.utf8)
                    for index in start..<min(start + batchSize, count) {
                        if index > start { body.append(UInt8(ascii: ",")) }
                        body.append(contentsOf: events[index].payload.bytes)
                    }
                    body.append(contentsOf: Array("]}".utf8))
                    return (route.path, ByteBuffer(bytes: body))
                }
            }
            print("  \(requests.count) requests of \(batchSize) event(s), \(requests.reduce(0) { $0 + $1.body.readableBytes } / requests.count) bytes each")

            // The server, as `serve` runs it, on a free port.
            var configuration = AppConfiguration(databaseURL: environment.connectionString)
            configuration.writeKeys = [writeKey]
            if route.isOneEventPerRequest {
                // A browser key, usable from the page's origin, as a site using analytics.js configures it.
                configuration.corsOrigins = [writeKey: [IngestRoute.pageOrigin]]
            }
            configuration.port = 0
            let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: environment.client, logger: logger,
                onServerRunning: { port in portContinuation.yield(port) })
            let serviceGroup = ServiceGroup(services: [application], logger: logger)
            let server = Task { try await serviceGroup.run() }
            var portIterator = ports.makeAsyncIterator()
            guard let port = await portIterator.next() else { throw BenchError("the server did not start") }

            var httpConfiguration = HTTPClient.Configuration()
            httpConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            let authorization = "Basic " + Data((writeKey + ":").utf8).base64EncodedString()
            let baseURL = "http://127.0.0.1:\(port)"
            let latencies = LatencyLog()
            let streams = ProcessInfo.processInfo.activeProcessorCount
            let measured: (ours: Double, reference: Double, oursCPU: Double?, referenceCPU: Double?)
            do {
                // The HTTP clients and the reference in alternating rounds over consecutive slices of the requests.
                measured = try await environment.measureInRounds(events, rounds: rounds, copyStreams: streams, unit: batchSize) { (range: Range<Int>) in
                    let slice = (range.lowerBound / batchSize)..<((range.upperBound + batchSize - 1) / batchSize)
                    let next = WorkCursor()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<clients {
                            group.addTask {
                                var mine: [Double] = []
                                while case let offset = next.take(), offset < slice.count {
                                    let index = slice.lowerBound + offset
                                    var request = HTTPClientRequest(url: baseURL + requests[index].path)
                                    request.method = .POST
                                    request.headers.add(name: "Authorization", value: authorization)
                                    if route.isOneEventPerRequest {
                                        // analytics-next 1.84's headers (after the preflight its browser caches).
                                        request.headers.add(name: "Content-Type", value: "text/plain")
                                        request.headers.add(name: "X-Retry-Count", value: "0")
                                        request.headers.add(name: "Origin", value: IngestRoute.pageOrigin)
                                    } else {
                                        request.headers.add(name: "Content-Type", value: "application/json")
                                    }
                                    request.body = .bytes(requests[index].body)
                                    let sent = ContinuousClock.now
                                    let response = try await http.execute(request, timeout: .seconds(60))
                                    let body = try await response.body.collect(upTo: 1 << 20)
                                    guard response.status == .ok else {
                                        throw BenchError("request \(index) answered \(response.status): \(String(buffer: body))")
                                    }
                                    // A page reads the answer only with the CORS header for its origin.
                                    guard !route.isOneEventPerRequest
                                        || response.headers["Access-Control-Allow-Origin"].first == IngestRoute.pageOrigin
                                    else {
                                        throw BenchError("request \(index) was answered without CORS headers for \(IngestRoute.pageOrigin)")
                                    }
                                    mine.append((ContinuousClock.now - sent).seconds * 1000)
                                }
                                let collected = mine
                                latencies.append(collected)
                            }
                        }
                        try await group.waitForAll()
                    }
                }
            } catch {
                try? await http.shutdown()
                await serviceGroup.triggerGracefulShutdown()
                _ = try? await server.value
                throw error
            }
            let seconds = measured.ours
            try await http.shutdown()
            await serviceGroup.triggerGracefulShutdown()
            try await server.value

            let stored = try await EventStore(client: environment.client, logger: logger).headPosition()
            guard stored == Int64(count) else { throw BenchError("expected \(count) events in the log, found \(stored)") }
            let sorted = latencies.sorted
            let p50 = sorted[sorted.count / 2]
            let p99 = sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))]
            let copyRowsPerSecond = Double(count) / measured.reference
            let eventsPerSecond = Double(count) / seconds
            let ratio = eventsPerSecond / copyRowsPerSecond
            try report(
                """
                ingest  \(count) events via POST \(route.description), \(clients) HTTP clients: \(format(eventsPerSecond)) events/s (\(format(seconds, digits: 2)) s)
                        acknowledgement latency p50 \(format(p50, digits: 1)) ms, p99 \(format(p99, digits: 1)) ms
                COPY    the same rows into a plain table, \(streams) COPY stream(s): \(format(copyRowsPerSecond)) rows/s (\(rounds) alternating rounds)
                cpu     \(cpuLine(ours: measured.oursCPU, reference: measured.referenceCPU, count: count))
                ratio   HTTP ingestion / raw COPY = \(format(ratio, digits: 3))   (targets: \(route.isOneEventPerRequest ? "≥ 5,000 events/s and p99 ≤ 50 ms" : "≥ 20,000 events/s and ≥ 0.3"))
                """,
                figures: [
                    "events_per_s": eventsPerSecond.rounded(), "p50_ms": (p50 * 10).rounded() / 10, "p99_ms": (p99 * 10).rounded() / 10,
                    "copy_rows_per_s": copyRowsPerSecond.rounded(), "ratio": (ratio * 1000).rounded() / 1000,
                    "events": Double(count), "batch_size": Double(batchSize), "clients": Double(clients), "rounds": Double(rounds),
                ].merging(cpuFigures(ours: measured.oursCPU, reference: measured.referenceCPU, count: count)) { first, _ in first },
                json: options.json)
        }
    }
}

/// Request latencies (milliseconds) collected by concurrent clients.
final class LatencyLog: Sendable {
    private let values = Mutex<[Double]>([])
    func append(_ latencies: [Double]) { values.withLock { $0.append(contentsOf: latencies) } }
    var sorted: [Double] { values.withLock { $0.sorted() } }
}

/// Where `ingest` posts: batches to one path, or one event per request to the path of its type.
struct IngestRoute: Sendable, CustomStringConvertible {
    /// The `Origin` the one-event requests carry, as a page's `fetch` does (HubSignal answers with CORS headers for it).
    static let pageOrigin = "https://bench.example.com"

    /// The `--path` given.
    let path: String
    /// The one-event paths by event type (`nil` for a batch path).
    private let paths: [EventType: String]?

    init(_ path: String) throws {
        self.path = path
        switch path {
        case "/v1/batch", "/v1/import", "/v1/b": paths = nil
        case "/v1/t": paths = [.track: "/v1/t", .identify: "/v1/i", .page: "/v1/p"]
        case "/v1/track": paths = [.track: "/v1/track", .identify: "/v1/identify", .page: "/v1/page"]
        default: throw ValidationError("--path must be /v1/batch, /v1/import, /v1/b, /v1/t or /v1/track")
        }
    }

    var isOneEventPerRequest: Bool { paths != nil }

    /// The path an event of `type` is posted to.
    func path(for type: EventType) -> String { paths?[type] ?? path }

    var description: String {
        guard let paths else { return "\(path) (batches)" }
        return "\(paths.values.sorted().joined(separator: ", ")) (one event per request, as analytics-next sends from a page)"
    }
}
