import ArgumentParser
import Domain
import EventStore
import Foundation
import Logging
import Mapping
import PQ
import Projections
import Synchronization

/// `hubsignal-bench rebuild`: rebuilds the projections over a realistic log and compares with reading the log alone.
struct RebuildBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: """
            Fill the log with realistic events (about 50,000 contacts: identify, track, page, group, audiences, alias, \
            HubSpot results, OneSignal message events), then rebuild all projections from it; the reference is reading and \
            decoding the same log from position 0 through the subscription read path.
            """)

    @OptionGroup var options: BenchOptions
    @Option(help: "Contacts in the generated log.") var contacts = 50_000
    @Option(help: "Mapping file for the rebuild (default: the built-in defaults).") var mapping: String?

    func run() async throws {
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let count = options.events
        let contacts = self.contacts
        let mapping = try self.mapping.map { try Mapping.load(contentsOf: $0) } ?? .defaults
        try await BenchEnvironment.with(options: options, maximumConnections: 4, logger: logger) { environment in
            print("generating and appending \(count) events for \(contacts) contacts…")
            let store = EventStore(client: environment.client, logger: logger)
            let events = PeopleEventGenerator.make(count: count, contacts: contacts)
            let batches = stride(from: 0, to: count, by: 1000).map { Array(events[$0..<min($0 + 1000, count)]) }
            let next = WorkCursor()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        while case let index = next.take(), index < batches.count { try await store.append(batches[index]) }
                    }
                }
                try await group.waitForAll()
            }
            try await environment.quiesce()

            // Reference: read and decode the whole log.
            var cpuStart = MachineCPU.busySeconds()
            let readStart = ContinuousClock.now
            var cursor = LogCursor.origin
            var read = 0
            while read < count {
                let page = try await store.read(after: cursor, limit: 5000)
                read += page.events.count
                cursor = page.nextCursor
                if page.events.isEmpty { try await Task.sleep(for: .milliseconds(5)) }
            }
            let readSeconds = (ContinuousClock.now - readStart).seconds
            let readCPU = MachineCPU.add(since: cpuStart, to: 0)

            // The rebuild, split where the replay ends and the writing of the new tables begins.
            let replayEnd = Mutex<(ContinuousClock.Instant, Double?, Double)?>(nil)
            cpuStart = MachineCPU.busySeconds()
            let processStart = ProcessCPU.seconds()
            let start = ContinuousClock.now
            let replayed = try await ProjectionRebuild(store: store, mapping: mapping, logger: logger).run { progress in
                guard progress.isWriting else { return }
                replayEnd.withLock { $0 = $0 ?? (ContinuousClock.now, MachineCPU.busySeconds(), ProcessCPU.seconds()) }
            }
            let end = ContinuousClock.now
            let cpuEnd = MachineCPU.busySeconds()
            let processEnd = ProcessCPU.seconds()
            let seconds = (end - start).seconds
            guard replayed == count else { throw BenchError("the rebuild replayed \(replayed) events, expected \(count)") }
            guard let (replayedAt, replayCPUEnd, replayProcessEnd) = replayEnd.withLock({ $0 }) else { throw BenchError("the rebuild reported no writing phase") }
            let counts = try await environment.client.query(
                """
                SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM companies), (SELECT count(*) FROM audience_memberships),
                       (SELECT count(*) FROM message_activity), (SELECT count(*) FROM contact_merges)
                """)[0].decode((Int64, Int64, Int64, Int64, Int64).self)

            let eventsPerSecond = Double(count) / seconds
            let readPerSecond = Double(count) / readSeconds
            let replaySeconds = (replayedAt - start).seconds
            let writeSeconds = (end - replayedAt).seconds
            var figures: [String: Double] = [
                "events_per_s": eventsPerSecond.rounded(), "read_events_per_s": readPerSecond.rounded(),
                "ratio": (eventsPerSecond / readPerSecond * 1000).rounded() / 1000, "events": Double(count),
                "contacts": Double(counts.0), "replay_s": (replaySeconds * 100).rounded() / 100,
                "write_s": (writeSeconds * 100).rounded() / 100,
                "process_cpu_us_per_event": ((processEnd - processStart) / Double(count) * 1e7).rounded() / 10,
                "replay_process_cpu_us_per_event": ((replayProcessEnd - processStart) / Double(count) * 1e7).rounded() / 10,
            ]
            var cpuLines = "cpu     machine CPU per event: not measured (no /proc/stat)"
            let cores = ProcessInfo.processInfo.activeProcessorCount
            if let cpuStart, let cpuEnd, let replayCPUEnd, let readCPU {
                let micros = { (cpu: Double) in cpu / Double(count) * 1e6 }
                let rebuildMicros = micros(cpuEnd - cpuStart)
                let ceiling = Double(cores) * 1e6 / rebuildMicros
                figures["cpu_us_per_event"] = (rebuildMicros * 10).rounded() / 10
                figures["replay_cpu_us_per_event"] = (micros(replayCPUEnd - cpuStart) * 10).rounded() / 10
                figures["write_cpu_us_per_event"] = (micros(cpuEnd - replayCPUEnd) * 10).rounded() / 10
                figures["read_cpu_us_per_event"] = (micros(readCPU) * 10).rounded() / 10
                figures["cpu_ceiling_events_per_s"] = ceiling.rounded()
                cpuLines = """
                    cpu     machine CPU per event (all processes: HubSignal, PostgreSQL, anything else running): rebuild \
                    \(format(rebuildMicros, digits: 1)) µs (replay \(format(micros(replayCPUEnd - cpuStart), digits: 1)), writing \
                    \(format(micros(cpuEnd - replayCPUEnd), digits: 1))), read \(format(micros(readCPU), digits: 1)) µs; of the rebuild's, \
                    this process (decoding, applying, COPY rows) \(format(micros(processEnd - processStart), digits: 1)) µs (replay \
                    \(format(micros(replayProcessEnd - processStart), digits: 1)))
                    ceiling \(cores) cores busy all the time at that CPU per event: \(format(ceiling)) events/s
                    """
            }
            try report(
                """
                rebuild \(count) events: \(format(eventsPerSecond)) events/s (\(format(seconds, digits: 2)) s: replay \(format(replaySeconds, digits: 2)) s, \
                writing the tables \(format(writeSeconds, digits: 2)) s)   (target ≥ 150,000)
                        → \(counts.0) contacts, \(counts.1) companies, \(counts.2) audience memberships, \(counts.3) message activities, \(counts.4) merges
                read    the same log from position 0, decoded: \(format(readPerSecond)) events/s
                ratio   rebuild / read = \(format(eventsPerSecond / readPerSecond, digits: 3))
                \(cpuLines)
                """,
                figures: figures, json: options.json)
        }
    }
}

/// The CPU time this process has used (user and system, every thread).
enum ProcessCPU {
    static func seconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}

/// A realistic log for the people projection: identify (with email, half of them first anonymous), track, page,
/// group, Engage audiences, aliases, HubSpot sync results and OneSignal message events.
enum PeopleEventGenerator {
    static func make(count: Int, contacts: Int, seed: UInt64 = 7) -> [NewEvent] {
        var random = SplitMix64(seed: seed)
        let base = 1_790_000_000.0
        var result: [NewEvent] = []
        result.reserveCapacity(count)
        let context =
            #""context":{"library":{"name":"analytics.js","version":"5.2.0"},"ip":"203.0.113.7","userAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15","locale":"en-US","page":{"path":"/app","title":"App"}}"#
        for index in 0..<count {
            let user = Int(random.next() % UInt64(contacts))
            let occurredAt = Date(timeIntervalSince1970: base + Double(index) * 0.01)
            let kind = random.next() % 100
            let type: EventType
            let source: EventSource
            let payload: String
            switch kind {
            case 0..<25:
                type = .identify
                source = .segment
                payload =
                    #"{"type":"identify","userId":"user-\#(user)","anonymousId":"anon-\#(user)","traits":{"email":"user\#(user)@example.com","firstName":"Ada","lastName":"Lovelace \#(user)","plan":"\#(["free", "pro", "enterprise"][user % 3])","logins":\#(index % 97)},\#(context)}"#
            case 25..<55:
                type = .track
                source = .segment
                payload =
                    #"{"type":"track","event":"Order Completed","userId":"user-\#(user)","properties":{"order_id":"o-\#(index)","revenue":\#(index % 500)},\#(context)}"#
            case 55..<70:
                type = .page
                source = .segment
                payload = #"{"type":"page","name":"Pricing","anonymousId":"anon-\#(user)","properties":{"path":"/pricing"},\#(context)}"#
            case 70..<76:
                type = .group
                source = .segment
                payload =
                    #"{"type":"group","userId":"user-\#(user)","groupId":"co-\#(user % 2000)","traits":{"name":"Company \#(user % 2000)","website":"https://www.company\#(user % 2000).example","employees":\#(user % 900)}}"#
            case 76..<84:
                type = .track
                source = .segment
                let entered = random.next() % 2 == 0
                let audience = ["big_spenders", "churn_risk", "trial_users"][user % 3]
                payload =
                    #"{"type":"track","event":"\#(entered ? "Audience Entered" : "Audience Exited")","userId":"user-\#(user)","properties":{"audience_key":"\#(audience)","\#(audience)":\#(entered)},"context":{"personas":{"computation_class":"audience","computation_key":"\#(audience)"}}}"#
            case 84..<85:
                type = .alias
                source = .segment
                payload = #"{"type":"alias","previousId":"anon-\#(user)","userId":"user-\#(user)"}"#
            case 85..<88:
                type = .hubSpotContactSynced
                source = .hubsignal
                payload = #"{"contactId":"c_unknown-\#(user)","hubspotId":"\#(100_000 + user)"}"#
            default:
                type = .oneSignal("message.push.\(["sent", "delivered", "clicked"][index % 3])")
                source = .onesignal
                payload =
                    #"{"event_id":"ev-\#(index)","kind":"message.push.\#(["sent", "delivered", "clicked"][index % 3])","external_id":"user-\#(user)","onesignal_id":"os-\#(user)","subscription_id":"sub-\#(user)","message_id":"n-\#(index % 5000)","app_id":"app-a"}"#
            }
            result.append(
                NewEvent(
                    stream: "contact:user-\(user)", type: type, source: source, idempotencyKey: "bench-\(index)",
                    occurredAt: occurredAt, payload: PQJSONB(payload), metadata: PQJSONB("{}")))
        }
        return result
    }
}
