import SandboxKit

/// The rolling one-second windows of one app: one per user or subscription for writes, one for views, one for
/// notifications. Lives inside the sandbox's state lock.
struct AppRateLimiters: Sendable {
    /// Which limit a request counts against.
    enum Bucket: Hashable, Sendable {
        case write(String)
        case view
        case notification
    }

    private var windows: [Bucket: RollingWindowLimiter] = [:]
    private var acquisitions = 0
    /// The time the windows count in.
    let clock: SandboxClock

    init(clock: SandboxClock) {
        self.clock = clock
    }

    /// Counts a request against `bucket` allowing `limit` per second; returns the wait before a retry may succeed
    /// when the request is refused, `nil` when it may go ahead (or `limit` is `nil`).
    mutating func acquire(_ bucket: Bucket, limit: Int?) -> Duration? {
        guard let limit else { return nil }
        let now = clock.now
        acquisitions += 1
        if acquisitions % 1_024 == 0 { prune(now: now) }
        var window = windows[bucket] ?? RollingWindowLimiter(limit: limit, window: .seconds(1))
        let decision = window.acquire(at: now)
        windows[bucket] = window
        return decision.allowed ? nil : decision.resetAfter
    }

    /// Forgets the windows of writers that have been quiet for a second, so that the table does not grow forever.
    private mutating func prune(now: ContinuousClock.Instant) {
        for bucket in Array(windows.keys) {
            guard var window = windows[bucket] else { continue }
            if window.remaining(at: now) == window.limit { windows.removeValue(forKey: bucket) }
        }
    }
}
