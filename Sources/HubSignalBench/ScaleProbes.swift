import App
import AsyncHTTPClient
import EventStore
import Foundation
import Hummingbird
import Logging
import Mapping
import NIOCore
import Operations
import PQ
import Projections
import ServiceLifecycle

/// The measurements `scale` takes at each size of the log, each through the code path the service uses.
struct ScaleProbes {
    let environment: BenchEnvironment
    let log: ScaleLog
    let store: EventStore
    let logger: Logger

    /// Vacuums the log's tables and writes a checkpoint, so that a phase does not pay for the one before it.
    func quiesce() async throws {
        try await environment.quiesce(also: log.layout == .partitioned ? [ScaleLog.keysTable] : [])
    }

    // MARK: - Append and its ceiling

    /// The store's append (batches of `batchSize` from `concurrency` appenders, as `append` runs it) and raw COPY of as
    /// many rows into the same tables over `concurrency` streams (the ceiling), in `rounds` alternating rounds over
    /// consecutive slices. Returns the events per second of each.
    func appendAndCeiling(
        _ events: [NewEvent], copying copyRows: [ScaleLog.Row], rounds: Int, concurrency: Int, batchSize: Int
    ) async throws -> (append: Double, ceiling: Double) {
        let rounds = max(1, min(rounds, events.count / max(1, batchSize)))
        var appendSeconds = 0.0
        var copySeconds = 0.0
        let store = self.store
        for round in 0..<rounds {
            let range = events.count * round / rounds..<events.count * (round + 1) / rounds
            try await quiesce()
            let batches = stride(from: range.lowerBound, to: range.upperBound, by: batchSize).map {
                Array(events[$0..<min($0 + batchSize, range.upperBound)])
            }
            let next = WorkCursor()
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        while case let index = next.take(), index < batches.count {
                            let outcomes = try await store.append(batches[index])
                            guard !outcomes.contains(where: \.isDuplicate) else { throw BenchError("a generated event was a duplicate") }
                        }
                    }
                }
                try await group.waitForAll()
            }
            appendSeconds += (ContinuousClock.now - start).seconds
            try await quiesce()
            let copyRange = copyRows.count * round / rounds..<copyRows.count * (round + 1) / rounds
            let share = (copyRange.count + concurrency - 1) / max(1, concurrency)
            copySeconds += try await log.copy(count: copyRange.count, streams: concurrency, chunk: max(1, share)) { index in
                copyRows[copyRange.lowerBound + index]
            }
        }
        return (Double(events.count) / appendSeconds, Double(copyRows.count) / copySeconds)
    }

    // MARK: - HTTP ingest

    /// `/v1/batch` requests of `batchSize` events from `clients` HTTP clients against the server as `serve` runs it, in
    /// `rounds` slices each after `quiesce()`. Returns events per second and the acknowledgement p99 in milliseconds.
    func ingest(_ events: [NewEvent], rounds: Int, clients: Int, batchSize: Int) async throws -> (perSecond: Double, p99: Double) {
        let writeKey = "bench-write-key"
        let requests: [ByteBuffer] = stride(from: 0, to: events.count, by: batchSize).map { start in
            var body = Array(#"{"batch":["#.utf8)
            for index in start..<min(start + batchSize, events.count) {
                if index > start { body.append(UInt8(ascii: ",")) }
                body.append(contentsOf: events[index].payload.bytes)
            }
            body.append(contentsOf: Array("]}".utf8))
            return ByteBuffer(bytes: body)
        }
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
        let url = "http://127.0.0.1:\(port)/v1/batch"
        let authorization = "Basic " + Data((writeKey + ":").utf8).base64EncodedString()
        let latencies = LatencyLog()
        var seconds = 0.0
        do {
            let rounds = max(1, min(rounds, requests.count))
            for round in 0..<rounds {
                let slice = requests.count * round / rounds..<requests.count * (round + 1) / rounds
                try await quiesce()
                let next = WorkCursor()
                let start = ContinuousClock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<clients {
                        group.addTask {
                            var mine: [Double] = []
                            while case let offset = next.take(), offset < slice.count {
                                var request = HTTPClientRequest(url: url)
                                request.method = .POST
                                request.headers.add(name: "Authorization", value: authorization)
                                request.headers.add(name: "Content-Type", value: "application/json")
                                request.body = .bytes(requests[slice.lowerBound + offset])
                                let sent = ContinuousClock.now
                                let response = try await http.execute(request, timeout: .seconds(60))
                                let body = try await response.body.collect(upTo: 1 << 20)
                                guard response.status == .ok else {
                                    throw BenchError("a /v1/batch request answered \(response.status): \(String(buffer: body))")
                                }
                                mine.append((ContinuousClock.now - sent).seconds * 1000)
                            }
                            let collected = mine
                            latencies.append(collected)
                        }
                    }
                    try await group.waitForAll()
                }
                seconds += (ContinuousClock.now - start).seconds
            }
        } catch {
            try? await http.shutdown()
            await serviceGroup.triggerGracefulShutdown()
            _ = try? await server.value
            throw error
        }
        try await http.shutdown()
        await serviceGroup.triggerGracefulShutdown()
        try await server.value
        return (Double(events.count) / seconds, Self.percentile(latencies.sorted, 0.99))
    }

    // MARK: - Reading

    /// A subscriber `count` events behind the head catching up: `EventStore.read(after:limit:)` pages of 1,000 from the
    /// cursor of the event `count` positions below the head, every payload touched. Returns events per second.
    func catchUp(_ count: Int) async throws -> Double {
        let head = try await log.head()
        let rows = try await environment.client.query(
            """
            SELECT transaction_id::text, position FROM events WHERE position <= \(max(0, head - Int64(count)))
            ORDER BY position DESC LIMIT 1
            """)
        let cursor: LogCursor
        if let row = rows.first {
            let (transaction, position) = try row.decode((String, Int64).self)
            guard let transactionID = UInt64(transaction) else { throw BenchError("unexpected transaction id \(transaction)") }
            cursor = LogCursor(transactionID: transactionID, position: position)
        } else {
            cursor = .origin
        }
        let total = min(Int64(count), head)
        var read: Int64 = 0
        var bytes = 0
        var next = cursor
        let start = ContinuousClock.now
        while read < total {
            let page = try await store.read(after: next, limit: 1000)
            guard !page.events.isEmpty else { break }
            for event in page.events { bytes &+= event.payload.bytes.count }
            read += Int64(page.events.count)
            next = page.nextCursor
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard read > 0, bytes > 0 else { throw BenchError("the catch-up read no event") }
        return Double(read) / seconds
    }

    /// `hubsignal events --user-id U` for each of `userIDs` (resolve, then the latest `limit` events, with `window`
    /// recent positions scanned on other streams). Returns p50 and p99 in milliseconds, the p50 of resolving the
    /// contact alone (`latest` resolves it once more), and the log's blocks read from outside shared buffers per
    /// history (from `pg_statio_user_tables`: the OS cache or the disk).
    func history(_ userIDs: [String], window: Int64, limit: Int = 100) async throws
        -> (p50: Double, p99: Double, resolveP50: Double, blocksRead: Double)
    {
        let trail = ContactAuditTrail(store: store, recentWindow: window)
        var milliseconds: [Double] = []
        var resolving: [Double] = []
        var shown = 0
        let blocksBefore = try await blocksRead()
        for userID in userIDs {
            let start = ContinuousClock.now
            guard let contact = try await trail.resolve(.userID(userID)) else { throw BenchError("no contact for user id \(userID)") }
            resolving.append((ContinuousClock.now - start).seconds * 1000)
            let page = try await trail.latest(contactID: contact.contactID, limit: limit)
            milliseconds.append((ContinuousClock.now - start).seconds * 1000)
            shown += page.events.count
        }
        let blocks = try await blocksRead() - blocksBefore
        guard shown > 0 else { throw BenchError("the contacts' histories were empty") }
        milliseconds.sort()
        resolving.sort()
        return (
            Self.percentile(milliseconds, 0.5), Self.percentile(milliseconds, 0.99), Self.percentile(resolving, 0.5),
            Double(blocks) / Double(max(1, userIDs.count))
        )
    }

    /// Blocks of the log's tables and indexes (every partition, `event_keys`) read from outside shared buffers so far.
    private func blocksRead() async throws -> Int64 {
        try await environment.client.withConnection { connection in
            // The statistics are a snapshot per transaction; a fresh one each time.
            _ = try await connection.query("SELECT pg_stat_clear_snapshot()")
            return try await connection.query(
                """
                SELECT COALESCE(sum(COALESCE(heap_blks_read, 0) + COALESCE(idx_blks_read, 0) + COALESCE(toast_blks_read, 0)
                                    + COALESCE(tidx_blks_read, 0)), 0)::bigint
                FROM pg_statio_user_tables
                WHERE relid = 'events'::regclass OR relname = \(ScaleLog.keysTable)
                   OR relid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'events'::regclass)
                """)[0].decode(Int64.self, at: 0)
        }
    }

    /// User ids the read models know, `count` of them at random, none of `excluded`.
    func knownUserIDs(_ count: Int, excluding excluded: Set<String>) async throws -> [String] {
        let rows = try await environment.client.query(
            """
            SELECT value FROM identities WHERE kind = 'user_id' AND NOT (value = ANY(\(Array(excluded))::text[]))
            ORDER BY random() LIMIT \(count)
            """)
        return try rows.map { try $0.decode(String.self, at: 0) }
    }

    // MARK: - Rebuild and erasure

    /// `ProjectionRebuild` of the read models from the whole log with the built-in mapping. Returns events per second.
    func rebuild() async throws -> Double {
        let expected = try await log.count()
        let start = ContinuousClock.now
        let replayed = try await ProjectionRebuild(store: store, mapping: .defaults, logger: logger).run()
        let seconds = (ContinuousClock.now - start).seconds
        guard Int64(replayed) == expected else { throw BenchError("the rebuild replayed \(replayed) events, expected \(expected)") }
        return Double(replayed) / seconds
    }

    /// `hubsignal erase --user-id U` (HubSignal's own erasure, nothing forwarded) for each of `userIDs`. Returns each
    /// duration in milliseconds and the events redacted in all.
    func erase(_ userIDs: [String]) async throws -> (milliseconds: [Double], events: Int) {
        let erasure = Erasure(client: environment.client, store: store)
        var milliseconds: [Double] = []
        var events = 0
        for userID in userIDs {
            let start = ContinuousClock.now
            let report = try await erasure.erase(.userID(userID))
            milliseconds.append((ContinuousClock.now - start).seconds * 1000)
            events += report.events
        }
        return (milliseconds, events)
    }

    /// The value below which `fraction` of the sorted `values` lie (nearest rank); 0 for none.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}
