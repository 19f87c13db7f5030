import App
import ArgumentParser
import AsyncHTTPClient
import Delivery
import Domain
import EventStore
import FaultHarness
import Foundation
import HubSpot
import HubSpotSandbox
import Ingestion
import Logging
import Mapping
import NIOCore
import PQ
import Projections

/// `hubsignal-bench hubspot`: how economically the HubSpot sync uses HubSpot's rate limit, against the sandbox with
/// HubSpot's real limit, beside a naive one-call-per-event sender measured against a second sandbox in the same run.
struct HubSpotBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubspot",
        abstract: """
            Append identify events (several updates per contact, in random order) while the projection and the HubSpot \
            sync run against a HubSpot sandbox limited like HubSpot (100 requests / 10 s); report API calls, calls per \
            1,000 contacts changed, 429s and the time until the sandbox holds the read model's final state. The naive \
            sender (one upsert per event, no limiter, honouring Retry-After) runs against its own sandbox for \
            --naive-seconds; its time to final state is extrapolated from the rate it achieved.
            """)

    @Option(help: "Identify events.") var events = 100_000
    @Option(help: "Contacts they concern.") var contacts = 10_000
    @Option(help: "HubSpot's limit per 10 s, in the sandbox and in the sync's limiter.") var rateLimit = 100
    @Option(help: "The sync's coalescing delay, in milliseconds.") var lingerMilliseconds = 1_000
    @Option(help: "How long the naive sender runs (seconds).") var naiveSeconds = 20
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let options = try BenchOptions.parse(["--events", String(events), "--migrations", migrations])
        let events = HubSpotEventGenerator.make(count: self.events, contacts: contacts)
        try await BenchEnvironment.with(options: options, maximumConnections: 6, logger: logger) { environment in
            let token = "pat-na1-bench"
            let sandbox = HubSpotSandbox(configuration: .init(accessToken: token, rateLimit: rateLimit))
            try await sandbox.start()
            let store = EventStore(client: environment.client, logger: logger)
            let mapping = Mapping.defaults
            let projection = PeopleProjectionService(
                store: store, watcher: LogWatcher(), mapping: mapping, autoRebuild: true, logger: logger)
            try await projection.prepare()
            var syncConfiguration = HubSpotSync.Configuration(owner: "bench")
            syncConfiguration.linger = .milliseconds(lingerMilliseconds)
            syncConfiguration.pollInterval = .milliseconds(100)
            let client = HubSpotClient(
                configuration: .init(baseURL: sandbox.baseURL, accessToken: token),
                rateLimiter: HubSpotRateLimiter(limit: rateLimit), logger: logger)
            let sync = HubSpotSync(
                configuration: syncConfiguration, client: client, database: environment.client, store: store, mapping: mapping,
                logger: logger)

            print("appending \(events.count) identify events for \(contacts) contacts while the projection and the sync run…")
            let started = ContinuousClock.now
            let startedAt = Date()
            let background = runInBackground(projection, sync)
            try await appendAsLiveTraffic(events, to: store)
            let appended = (ContinuousClock.now - started).seconds
            var projected: Double?
            // Final state: every contact in sync, then HubSpot's values compared with the read model's.
            while true {
                let inSync = try await environment.client.query(
                    "SELECT count(*) FROM sync_status WHERE destination = \(Destination.hubspot.rawValue) AND state = 'in_sync'")[0].decode(Int64.self, at: 0)
                if projected == nil {
                    // Caught up: no event after the projection's checkpoint in readers' (transaction_id, position) order.
                    let checkpoint = try await environment.client.query(
                        "SELECT transaction_id, position FROM subscription_checkpoints WHERE name = \(PeopleProjection.name)"
                    ).first.map { try $0.decode((UInt64, Int64).self) }
                    if let checkpoint,
                        try await store.unreadCount(after: LogCursor(transactionID: checkpoint.0, position: checkpoint.1)) == 0
                    {
                        projected = (ContinuousClock.now - started).seconds
                    }
                }
                if inSync == Int64(contacts) { break }
                if ContinuousClock.now - started > .seconds(900) { throw BenchError("the sync did not finish within 15 minutes") }
                try await Task.sleep(for: .milliseconds(50))
            }
            let seconds = (ContinuousClock.now - started).seconds
            background.cancel()
            _ = await background.result
            let mismatches = try await LedgerCheck.compare(
                client: environment.client, acknowledged: [], hubSpot: sandbox, oneSignal: nil
            ).hubSpotDiffering.count
            let calls = sandbox.requests.count
            let upserts = sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert").map(\.receivedAt)
            if let first = upserts.first, let last = upserts.last {
                print(
                    "contact upserts sent between \(format(first.timeIntervalSince(startedAt), digits: 1)) s and "
                        + "\(format(last.timeIntervalSince(startedAt), digits: 1)) s")
            }
            let rateLimited = sandbox.rateLimitedResponses
            await sandbox.stop()

            print("naive sender: one upsert per event for \(naiveSeconds) s against a second sandbox…")
            let naive = try await Self.naive(events: events, rateLimit: rateLimit, seconds: naiveSeconds)
            let naiveSeconds = Double(events.count) / naive.acceptedPerSecond

            let perThousand = Double(calls) / Double(contacts) * 1000
            try report(
                """
                hubspot sync   \(calls) API calls for \(contacts) contacts changed by \(events.count) events: \
                \(format(perThousand, digits: 1)) calls per 1,000 contacts   (target ≤ 12; floor 10)
                               429s received: \(rateLimited)   (target 0)
                               final state in HubSpot after \(format(seconds, digits: 1)) s (events appended in \(format(appended, digits: 1)) s, \
                projected in \(format(projected ?? seconds, digits: 1)) s); \
                contacts differing from the read model: \(mismatches)
                naive sender   \(events.count) calls (one per event); in \(self.naiveSeconds) s it made \(naive.calls) calls, \
                \(naive.rateLimited) answered 429, \(format(naive.acceptedPerSecond, digits: 1)) accepted/s \
                → final state after ≈ \(format(naiveSeconds, digits: 0)) s (extrapolated)
                ratio          naive calls / our calls = \(format(Double(events.count) / Double(calls), digits: 1))
                """,
                figures: [
                    "calls": Double(calls), "calls_per_1000_contacts": (perThousand * 10).rounded() / 10,
                    "rate_limited": Double(rateLimited), "seconds_to_final_state": (seconds * 10).rounded() / 10,
                    "naive_calls": Double(events.count), "naive_rate_limited_in_sample": Double(naive.rateLimited),
                    "naive_seconds_to_final_state_extrapolated": naiveSeconds.rounded(), "mismatches": Double(mismatches),
                ], json: json)
            if mismatches > 0 { throw BenchError("\(mismatches) contacts in HubSpot differ from the read model") }
        }
    }

    struct NaiveRun {
        var calls: Int
        var rateLimited: Int
        var acceptedPerSecond: Double
    }

    /// One upsert per event, as fast as HubSpot lets it, honouring `Retry-After` on 429 (no limiter of its own).
    static func naive(events: [NewEvent], rateLimit: Int, seconds: Int) async throws -> NaiveRun {
        let token = "pat-na1-naive"
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: token, rateLimit: rateLimit))
        try await sandbox.start()
        let deadline = ContinuousClock.now + .seconds(seconds)
        var accepted = 0
        var index = 0
        while ContinuousClock.now < deadline, index < events.count {
            let message = (try JSONValue.parse(events[index].payload.bytes)).objectValue ?? [:]
            let traits = message["traits"]?.objectValue ?? [:]
            let email = traits["email"]?.stringValue ?? ""
            var properties: [String: String] = [:]
            if let first = traits["firstName"]?.stringValue { properties["firstname"] = first }
            if let last = traits["lastName"]?.stringValue { properties["lastname"] = last }
            if let city = traits["city"]?.stringValue { properties["city"] = city }
            let body = try JSONEncoder().encode(
                ["inputs": [HubSpotUpsertInput(id: email, idProperty: "email", properties: properties)]])
            var request = HTTPClientRequest(url: sandbox.baseURL + "/crm/v3/objects/contacts/batch/upsert")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            if response.status.code == 429 {
                let wait = response.headers.first(name: "Retry-After").flatMap(Double.init) ?? 1
                try await Task.sleep(for: .milliseconds(Int64(max(wait, 0.1) * 1000)))
            } else {
                accepted += 1
                index += 1
            }
        }
        let run = NaiveRun(
            calls: sandbox.requests.count, rateLimited: sandbox.rateLimitedResponses,
            acceptedPerSecond: Double(accepted) / Double(seconds))
        await sandbox.stop()
        return run
    }
}

/// Identify events with an email for `contacts` people, several updates each, in random (seeded) order.
enum HubSpotEventGenerator {
    static func make(count: Int, contacts: Int, seed: UInt64 = 7) -> [NewEvent] {
        var generator = SplitMix64(seed: seed)
        let cities = ["Berlin", "Lisbon", "Austin", "Osaka", "Nairobi", "Lima", "Oslo", "Perth"]
        let base = Date()
        return (0..<count).map { index in
            let person = index < contacts ? index : Int.random(in: 0..<contacts, using: &generator)
            let traits: JSONValue = .object([
                "email": .string("person\(person)@example.com"), "firstName": .string("P\(person)"),
                "lastName": .string("L\(index)"), "city": .string(cities[Int.random(in: 0..<cities.count, using: &generator)]),
            ])
            let message: JSONValue = .object([
                "type": .string("identify"), "userId": .string("user-\(person)"), "traits": traits,
                "messageId": .string("bench-\(index)"), "timestamp": .string(ISO8601Timestamp.format(base)),
            ])
            return NewEvent(
                stream: "user-\(person)", type: .identify, source: .segment, idempotencyKey: "bench-\(index)",
                occurredAt: Date(), payload: PQJSONB(bytes: (try? message.serialized()) ?? []))
        }
    }
}
