import ArgumentParser
import AsyncHTTPClient
import Delivery
import Domain
import EventStore
import FaultHarness
import Foundation
import Ingestion
import Logging
import Mapping
import NIOCore
import OneSignal
import OneSignalSandbox
import PQ
import Projections

/// `hubsignal-bench onesignal`: how few OneSignal calls the tag sync makes (OneSignal has no batch user update: the
/// floor is one call per user changed), against a sandbox with OneSignal's real limits (one write per second per user,
/// 1,000 writes per second per app), beside a naive one-call-per-event sender measured in the same run.
struct OneSignalBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onesignal",
        abstract: """
            Append identify events (several updates per user, in random order) while the projection and the OneSignal \
            sync run against a OneSignal sandbox limited like OneSignal; report API calls, calls per user changed, 429s \
            and the time until the sandbox holds the read model's tags. The users exist in OneSignal beforehand (their \
            app's SDK created them), unless --new-users. The naive sender (one PATCH per event, honouring Retry-After) \
            runs against its own sandbox for --naive-seconds; its time to final state is extrapolated.
            """)

    @Option(help: "Identify events.") var events = 100_000
    @Option(help: "Users they concern.") var users = 10_000
    @Option(help: "The sync's coalescing delay, in milliseconds.") var lingerMilliseconds = 1_000
    @Option(help: "Calls the sync keeps in flight.") var concurrency = 16
    @Option(help: "How long the naive sender runs (seconds).") var naiveSeconds = 20
    @Flag(help: "Users do not exist in OneSignal yet (each is created by one create-or-update with its tags).") var newUsers = false
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"

    static let appID = "0b5f3f1e-5b1c-4c43-9f3a-6d1d8e7a2b10"
    static let apiKey = "os_v2_app_bench"

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let options = try BenchOptions.parse(["--events", String(events), "--migrations", migrations])
        let events = HubSpotEventGenerator.make(count: self.events, contacts: users)
        try await BenchEnvironment.with(options: options, maximumConnections: 6, logger: logger) { environment in
            let sandbox = try await Self.sandbox(users: newUsers ? 0 : users)
            let store = EventStore(client: environment.client, logger: logger)
            let mapping = Mapping.defaults
            let projection = PeopleProjectionService(
                store: store, watcher: LogWatcher(), mapping: mapping, autoRebuild: true, logger: logger)
            try await projection.prepare()
            var syncConfiguration = OneSignalSync.Configuration(owner: "bench")
            syncConfiguration.linger = .milliseconds(lingerMilliseconds)
            syncConfiguration.concurrency = concurrency
            syncConfiguration.pollInterval = .milliseconds(100)
            let client = OneSignalClient(
                configuration: .init(baseURL: sandbox.baseURL!.absoluteString, appID: Self.appID, apiKey: Self.apiKey), logger: logger)
            let sync = OneSignalSync(
                configuration: syncConfiguration, client: client, database: environment.client, store: store, mapping: mapping,
                logger: logger)

            print("appending \(events.count) identify events for \(users) users while the projection and the OneSignal sync run…")
            let started = ContinuousClock.now
            let background = runInBackground(projection, sync)
            try await appendAsLiveTraffic(events, to: store)
            let appended = (ContinuousClock.now - started).seconds
            while true {
                let inSync = try await environment.client.query(
                    "SELECT count(*) FROM sync_status WHERE destination = \(Destination.onesignal.rawValue) AND state = 'in_sync'")[0].decode(Int64.self, at: 0)
                if inSync == Int64(users) { break }
                if ContinuousClock.now - started > .seconds(900) { throw BenchError("the sync did not finish within 15 minutes") }
                try await Task.sleep(for: .milliseconds(50))
            }
            let seconds = (ContinuousClock.now - started).seconds
            background.cancel()
            _ = await background.result
            let mismatches = try await LedgerCheck.compare(
                client: environment.client, acknowledged: [], hubSpot: nil, oneSignal: sandbox, oneSignalApps: ["default": Self.appID]
            ).oneSignalDiffering.count
            let calls = sandbox.requests.count
            let creates = sandbox.requests.matching(method: "POST", path: "/apps/\(Self.appID)/users").count
            let rateLimited = sandbox.rateLimitedResponses
            await sandbox.stop()

            print("naive sender: one PATCH per event for \(naiveSeconds) s against a second sandbox…")
            let naive = try await Self.naive(events: events, seconds: naiveSeconds, users: newUsers ? 0 : users)
            let naiveSeconds = Double(events.count) / max(naive.acceptedPerSecond, 0.001)
            let perUser = Double(calls) / Double(users)
            try report(
                """
                onesignal sync \(calls) API calls (\(creates) creates) for \(users) users changed by \(events.count) events: \
                \(format(perUser, digits: 3)) calls per user   (target ≤ 1.05; floor 1)
                               429s received: \(rateLimited)   (target 0)
                               final state in OneSignal after \(format(seconds, digits: 1)) s (events appended in \(format(appended, digits: 1)) s); \
                users differing from the read model: \(mismatches)
                naive sender   \(events.count) calls (one per event); in \(self.naiveSeconds) s it made \(naive.calls) calls, \
                \(naive.rateLimited) answered 429, \(format(naive.acceptedPerSecond, digits: 1)) accepted/s \
                → final state after ≈ \(format(naiveSeconds, digits: 0)) s (extrapolated)
                ratio          naive calls / our calls = \(format(Double(events.count) / Double(calls), digits: 1))
                """,
                figures: [
                    "calls": Double(calls), "calls_per_user": (perUser * 1000).rounded() / 1000, "creates": Double(creates),
                    "rate_limited": Double(rateLimited), "seconds_to_final_state": (seconds * 10).rounded() / 10,
                    "naive_calls": Double(events.count), "naive_rate_limited_in_sample": Double(naive.rateLimited),
                    "naive_seconds_to_final_state_extrapolated": naiveSeconds.rounded(), "mismatches": Double(mismatches),
                ], json: json)
            if mismatches > 0 { throw BenchError("\(mismatches) users in OneSignal differ from the read model") }
        }
    }

    /// A sandbox with OneSignal's limits and `users` existing users (`user-0` …), as an app's SDK would have made them.
    static func sandbox(users: Int) async throws -> OneSignalSandbox {
        var configuration = OneSignalSandbox.Configuration(appID: appID, apiKey: apiKey)
        configuration.requestLogLimit = nil
        let sandbox = OneSignalSandbox(configuration: configuration)
        _ = try await sandbox.start()
        for index in 0..<users { try sandbox.seedUser(appID: appID, externalID: "user-\(index)") }
        return sandbox
    }

    struct NaiveRun {
        var calls: Int
        var rateLimited: Int
        var acceptedPerSecond: Double
    }

    /// One PATCH per event (a create with the tags after a 404), as fast as one connection goes, honouring
    /// `Retry-After` on 429.
    static func naive(events: [NewEvent], seconds: Int, users: Int) async throws -> NaiveRun {
        let sandbox = try await sandbox(users: users)
        let base = sandbox.baseURL!.absoluteString
        let deadline = ContinuousClock.now + .seconds(seconds)
        var accepted = 0
        var index = 0
        while ContinuousClock.now < deadline, index < events.count {
            let message = (try JSONValue.parse(events[index].payload.bytes)).objectValue ?? [:]
            let traits = message["traits"]?.objectValue ?? [:]
            let userID = message["userId"]?.stringValue ?? ""
            var tags: [String: String] = [:]
            if let first = traits["firstName"]?.stringValue { tags["first_name"] = first }
            if let last = traits["lastName"]?.stringValue { tags["last_name"] = last }
            if let city = traits["city"]?.stringValue { tags["city"] = city }
            let body = try JSONEncoder().encode(["properties": ["tags": tags]])
            var request = HTTPClientRequest(url: base + "/apps/\(appID)/users/by/external_id/\(userID)")
            request.method = .PATCH
            request.headers.add(name: "Authorization", value: "Key \(apiKey)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 20)
            if response.status.code == 429 {
                let wait = response.headers.first(name: "Retry-After").flatMap(Double.init) ?? 1
                try await Task.sleep(for: .milliseconds(Int64(max(wait, 0.1) * 1000)))
            } else if response.status.code == 404 {
                // No such user: create it (the create counts as another call).
                var create = HTTPClientRequest(url: base + "/apps/\(appID)/users")
                create.method = .POST
                create.headers.add(name: "Authorization", value: "Key \(apiKey)")
                create.headers.add(name: "Content-Type", value: "application/json")
                struct Create: Encodable {
                    var identity: [String: String]
                    var properties: [String: [String: String]]
                }
                let identity = try JSONEncoder().encode(Create(identity: ["external_id": userID], properties: ["tags": tags]))
                create.body = .bytes(ByteBuffer(bytes: identity))
                let created = try await HTTPClient.shared.execute(create, timeout: .seconds(30))
                _ = try await created.body.collect(upTo: 1 << 20)
                if created.status.code / 100 == 2 {
                    accepted += 1
                    index += 1
                } else if created.status.code == 429 {
                    try await Task.sleep(for: .seconds(1))
                }
            } else {
                accepted += 1
                index += 1
            }
        }
        let run = NaiveRun(
            calls: sandbox.requests.count, rateLimited: sandbox.rateLimitedResponses, acceptedPerSecond: Double(accepted) / Double(seconds))
        await sandbox.stop()
        return run
    }
}
