import FaultHarness
import Foundation
import Ingestion
import Synchronization

/// The soak's Segment calls, made as they are sent: track (60 %), identify (30 %), page (10 %) from `users` users, about
/// 600 bytes of JSON each with an analytics.js context, stamped with the current time. Identify calls change a few
/// traits (plan, city, a visit counter) so that the syncs keep having something to push.
struct SoakTraffic {
    private var random: SplitMix64
    private let users: UInt64
    private let runID: String
    private var next = 0

    init(users: Int, runID: String, seed: UInt64 = 42) {
        self.random = SplitMix64(seed: seed)
        self.users = UInt64(users)
        self.runID = runID
    }

    static let trackEvents = ["Order Completed", "Product Viewed", "Signed Up", "Checkout Started", "Plan Upgraded", "Video Played"]
    static let plans = ["free", "starter", "pro", "enterprise"]
    static let cities = ["Berlin", "Lisbon", "Austin", "Osaka", "Nairobi", "Lima", "Oslo", "Perth"]
    static let agents = [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
        "analytics-python/2.3.2",
    ]

    /// The next `count` calls.
    mutating func batch(_ count: Int) -> [SegmentCall] {
        let timestamp = ISO8601Timestamp.format(Date())
        return (0..<count).map { _ in call(timestamp: timestamp) }
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }

    private mutating func call(timestamp: String) -> SegmentCall {
        let index = next
        next += 1
        let user = random.next() % users
        let messageID = "soak-\(runID)-\(index)"
        let context =
            #""context":{"library":{"name":"analytics.js","version":"5.2.0"},"ip":"203.0.113.\#(user % 250)","userAgent":"\#(pick(Self.agents))","locale":"en-US","timezone":"Europe/Berlin","page":{"path":"/app/dashboard","referrer":"https://www.example.com/","title":"Dashboard"}}"#
        let kind = random.next() % 10
        let json: String
        if kind < 6 {
            json =
                #"{"type":"track","event":"\#(pick(Self.trackEvents))","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","properties":{"order_id":"ord-\#(random.next() % 1_000_000)","revenue":\#(Double(random.next() % 50_000) / 100),"currency":"USD","plan":"\#(Self.plans[Int(user % 4)])"},\#(context)}"#
        } else if kind < 9 {
            json =
                #"{"type":"identify","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","traits":{"email":"user\#(user)@example.com","firstName":"Ada","lastName":"Lovelace \#(user)","plan":"\#(pick(Self.plans))","city":"\#(pick(Self.cities))","visits":\#(random.next() % 100),"company":{"id":"co-\#(user % 900)","name":"Company \#(user % 900)"}},\#(context)}"#
        } else {
            json =
                #"{"type":"page","name":"Pricing","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","properties":{"path":"/pricing","url":"https://www.example.com/pricing?utm_source=newsletter","title":"Pricing – Example","referrer":"https://www.google.com/"},\#(context)}"#
        }
        return SegmentCall(messageID: messageID, json: json)
    }
}

/// What the soak's clients saw, per report interval and in total, and the serve processes' memory over time.
final class SoakRecorder: Sendable {
    /// One report interval's acknowledgements.
    struct Interval {
        var events = 0
        var latencies: [Double] = []
        var retries = 0
    }

    /// One reading of a serve process's resident memory.
    struct MemorySample: Sendable {
        var elapsed: Double
        var process: Int
        var pid: Int32
        var bytes: Int
    }

    struct State {
        var interval = Interval()
        /// Acknowledgement latency of every batch, in milliseconds, from its scheduled time.
        var latencies: [Double] = []
        var acknowledgedEvents = 0
        var unacknowledgedBatches = 0
        var inFlight = 0
        var maxInFlight = 0
        var resentBatches = 0
        var notificationsAcknowledged: [String] = []
        var notificationsUnacknowledged = 0
        var notificationLatencies: [Double] = []
        var memory: [MemorySample] = []
        var faults: [String] = []
        var unplannedExits: [String] = []
    }

    private let state = Mutex(State())

    func batchStarted() {
        state.withLock {
            $0.inFlight += 1
            $0.maxInFlight = max($0.maxInFlight, $0.inFlight)
        }
    }

    func batchFinished(events: Int, latency: Duration, acknowledged: Bool) {
        let milliseconds = latency.seconds * 1000
        state.withLock {
            $0.inFlight -= 1
            if acknowledged {
                $0.acknowledgedEvents += events
                $0.latencies.append(milliseconds)
                $0.interval.events += events
                $0.interval.latencies.append(milliseconds)
            } else {
                $0.unacknowledgedBatches += 1
            }
        }
    }

    func batchResent() { state.withLock { $0.resentBatches += 1 } }

    func notificationFinished(callbackID: String, latency: Duration, acknowledged: Bool) {
        state.withLock {
            if acknowledged {
                $0.notificationsAcknowledged.append(callbackID)
                $0.notificationLatencies.append(latency.seconds * 1000)
            } else {
                $0.notificationsUnacknowledged += 1
            }
        }
    }

    func record(_ sample: MemorySample) { state.withLock { $0.memory.append(sample) } }

    func recordFault(_ line: String) { state.withLock { $0.faults.append(line) } }

    func recordUnplannedExit(_ line: String) { state.withLock { $0.unplannedExits.append(line) } }

    /// The interval since the last call, and a new one started.
    func takeInterval() -> Interval {
        state.withLock { state in
            defer { state.interval = Interval() }
            return state.interval
        }
    }

    var inFlight: Int { state.withLock { $0.inFlight } }

    /// A copy of everything recorded.
    var snapshot: State { state.withLock { $0 } }
}

/// The value at fraction `p` (0…1) of `values`, nearest rank; 0 for none.
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
}
