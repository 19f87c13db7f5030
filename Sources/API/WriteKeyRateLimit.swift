import HTTPTypes
import Ingestion
import Synchronization

/// A limit on the requests each write key may send (`HUBSIGNAL_WRITE_KEY_RATE_LIMIT`), off by default.
///
/// Each key has a token bucket of `requests` tokens refilled evenly over `period`: a burst of `requests` passes, then
/// one request per `period / requests`. A request over it is answered `429` before its body is read (with the key in
/// the header or the query) or right after the key is found in it, with `Retry-After` and `X-RateLimit-Reset` both in
/// seconds to wait: the header every current Segment SDK reads, and the one older analytics-next read (as seconds, not
/// a time). Every Segment and RudderStack SDK retries a 429, so nothing is lost. Buckets exist only for configured keys
/// (the key is checked first), so memory is bounded.
public final class WriteKeyRateLimit: Sendable {
    /// How many requests a key may send per ``period``.
    public let requests: Int
    /// The period over which ``requests`` are allowed.
    public let period: Duration
    private let buckets = Mutex<[String: Bucket]>([:])

    struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    /// - Parameters:
    ///   - requests: the requests allowed per `period`, also the largest burst; at least 1.
    ///   - period: at least 1 second.
    public init(requests: Int, per period: Duration) {
        precondition(requests > 0 && period >= .seconds(1), "a rate limit needs a positive number of requests per at least a second")
        self.requests = requests
        self.period = period
    }

    /// Takes a token for `writeKeyID`; `nil` when the request may go on, else the seconds to wait (at least 1).
    func admit(_ writeKeyID: String, now: ContinuousClock.Instant = .now) -> Int? {
        let capacity = Double(requests)
        let perSecond = capacity / (Double(period.components.seconds) + Double(period.components.attoseconds) / 1e18)
        return buckets.withLock { buckets in
            var bucket = buckets[writeKeyID] ?? Bucket(tokens: capacity, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(capacity, bucket.tokens + max(0, seconds) * perSecond)
            bucket.updated = now
            defer { buckets[writeKeyID] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
        }
    }

    /// The answer to a request over the limit.
    static func tooManyRequests(retryAfter seconds: Int) -> (IngestionError, HTTPFields) {
        (
            IngestionError(
                status: 429, code: "rate_limited",
                message: "this write key sent more than its limit of requests (HUBSIGNAL_WRITE_KEY_RATE_LIMIT); nothing was stored; "
                    + "retry in \(seconds) s"),
            [.retryAfter: "\(seconds)", rateLimitReset: "\(seconds)"]
        )
    }

    static let rateLimitReset = HTTPField.Name("X-RateLimit-Reset")!
}
