import App
import ArgumentParser
import AsyncHTTPClient
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
            HTTP clients, and copy the same events into a plain table with raw COPY (one stream per core).
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Events per /v1/batch request.") var batchSize = 100
    @Option(help: "Concurrent HTTP clients.") var clients = 8
    @Option(help: "Alternating rounds of HTTP ingestion and COPY over consecutive slices of the events (both measured under the same conditions).")
    var rounds = 5

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events
        let batchSize = self.batchSize
        let clients = self.clients
        let rounds = self.rounds
        try await BenchEnvironment.with(options: options, maximumConnections: clients, logger: logger) { environment in
            print("generating \(count) events…")
            let events = EventGenerator.make(count: count)
            let bodies: [ByteBuffer] = stride(from: 0, to: count, by: batchSize).map { start in
                var body = Array(#"{"batch":["#.utf8)
                for index in start..<min(start + batchSize, count) {
                    if index > start { body.append(UInt8(ascii: ",")) }
                    body.append(contentsOf: events[index].payload.bytes)
                }
                body.append(contentsOf: Array("]}".utf8))
                return ByteBuffer(bytes: body)
            }
            print("  \(bodies.count) requests of \(batchSize) events, \(bodies.reduce(0) { $0 + $1.readableBytes } / bodies.count) bytes each")

            // The server, as `serve` runs it, on a free port.
            let writeKey = "bench-write-key"
            var configuration = AppConfiguration(databaseURL: environment.connectionString)
            configuration.writeKeys = [writeKey]
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
            let url = "http://127.0.0.1:\(port)/v1/batch"
            let latencies = LatencyLog()
            let streams = ProcessInfo.processInfo.activeProcessorCount
            let measured: (ours: Double, reference: Double, oursCPU: Double?, referenceCPU: Double?)
            do {
                // The HTTP clients and the reference in alternating rounds over consecutive slices of the requests.
                measured = try await environment.measureInRounds(events, rounds: rounds, copyStreams: streams, unit: batchSize) { (range: Range<Int>) in
                    let requests = (range.lowerBound / batchSize)..<((range.upperBound + batchSize - 1) / batchSize)
                    let next = WorkCursor()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<clients {
                            group.addTask {
                                var mine: [Double] = []
                                while case let offset = next.take(), offset < requests.count {
                                    let index = requests.lowerBound + offset
                                    var request = HTTPClientRequest(url: url)
                                    request.method = .POST
                                    request.headers.add(name: "Authorization", value: authorization)
                                    request.headers.add(name: "Content-Type", value: "application/json")
                                    request.body = .bytes(bodies[index])
                                    let sent = ContinuousClock.now
                                    let response = try await http.execute(request, timeout: .seconds(60))
                                    let body = try await response.body.collect(upTo: 1 << 20)
                                    guard response.status == .ok else {
                                        throw BenchError("request \(index) answered \(response.status): \(String(buffer: body))")
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
                ingest  \(count) events via POST /v1/batch (\(batchSize) per request), \(clients) HTTP clients: \(format(eventsPerSecond)) events/s (\(format(seconds, digits: 2)) s)
                        acknowledgement latency p50 \(format(p50, digits: 1)) ms, p99 \(format(p99, digits: 1)) ms
                COPY    the same rows into a plain table, \(streams) COPY stream(s): \(format(copyRowsPerSecond)) rows/s (\(rounds) alternating rounds)
                cpu     \(cpuLine(ours: measured.oursCPU, reference: measured.referenceCPU, count: count))
                ratio   HTTP ingestion / raw COPY = \(format(ratio, digits: 3))   (targets: ≥ 20,000 events/s and ≥ 0.3)
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
