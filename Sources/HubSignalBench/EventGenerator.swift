import Domain
import EventStore
import Foundation
import PQ

/// Deterministic, realistic Segment calls (track, identify, page) of about 600 bytes of JSON, from 50,000 users.
enum EventGenerator {
    static func make(count: Int, seed: UInt64 = 42) -> [NewEvent] {
        var random = SplitMix64(seed: seed)
        let events = ["Order Completed", "Product Viewed", "Signed Up", "Checkout Started", "Plan Upgraded", "Video Played"]
        let plans = ["free", "starter", "pro", "enterprise"]
        let agents = [
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            "analytics-python/2.3.2",
        ]
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let base = 1_790_000_000.0
        var result: [NewEvent] = []
        result.reserveCapacity(count)
        for index in 0..<count {
            let user = random.next() % 50_000
            let messageID = String(format: "%016llx-%08x", random.next(), UInt32(index))
            let seconds = base + Double(index) * 0.01
            let timestamp = formatter.string(from: Date(timeIntervalSince1970: seconds))
            let kind = random.next() % 10
            let payload: String
            let type: EventType
            let agent = agents[Int(random.next() % UInt64(agents.count))]
            let context =
                #""context":{"library":{"name":"analytics.js","version":"5.2.0"},"ip":"203.0.113.\#(user % 250)","userAgent":"\#(agent)","locale":"en-US","timezone":"Europe/Berlin","page":{"path":"/app/dashboard","referrer":"https://www.example.com/","title":"Dashboard"},"campaign":{"name":"autumn-launch","source":"newsletter","medium":"email"}}"#
            if kind < 6 {
                type = .track
                let name = events[Int(random.next() % UInt64(events.count))]
                payload =
                    #"{"type":"track","event":"\#(name)","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","properties":{"order_id":"ord-\#(random.next() % 1_000_000)","revenue":\#(Double(random.next() % 50_000) / 100),"currency":"USD","plan":"\#(plans[Int(user % 4)])","coupon":null},\#(context)}"#
            } else if kind < 9 {
                type = .identify
                payload =
                    #"{"type":"identify","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","traits":{"email":"user\#(user)@example.com","firstName":"Ada","lastName":"Lovelace \#(user)","plan":"\#(plans[Int(user % 4)])","company":{"id":"co-\#(user % 900)","name":"Company \#(user % 900)"}},\#(context)}"#
            } else {
                type = .page
                payload =
                    #"{"type":"page","name":"Pricing","userId":"user-\#(user)","messageId":"\#(messageID)","timestamp":"\#(timestamp)","properties":{"path":"/pricing","url":"https://www.example.com/pricing?utm_source=newsletter","title":"Pricing – Example","referrer":"https://www.google.com/"},\#(context)}"#
            }
            result.append(
                NewEvent(
                    stream: "contact:user-\(user)", type: type, source: .segment, idempotencyKey: messageID,
                    occurredAt: Date(timeIntervalSince1970: seconds), payload: PQJSONB(payload),
                    metadata: PQJSONB(#"{"writeKeyID":"wk_bench","requestID":"req-\#(index / 100)"}"#)))
        }
        return result
    }
}

/// A small, fast, seedable random generator (SplitMix64), so every run generates the same events.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

