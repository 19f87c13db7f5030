import SandboxKit

extension OneSignalSandbox {
    /// The request rates a sandbox allows (§7), each per rolling second; `nil` turns a limit off.
    public struct RateLimits: Sendable {
        /// Writes (create, update, delete) per user or subscription per second (OneSignal: 1).
        public var userWritesPerSecond: Int?
        /// View requests (users, aliases, notifications) per app per second (OneSignal: 1).
        public var viewsPerSecond: Int?
        /// Create notification requests (and cancels) per app per second (OneSignal: 150 free, 6,000 paid).
        public var notificationsPerSecond: Int?

        /// Limits given one by one.
        public init(userWritesPerSecond: Int? = 1, viewsPerSecond: Int? = 1, notificationsPerSecond: Int? = 150) {
            self.userWritesPerSecond = userWritesPerSecond
            self.viewsPerSecond = viewsPerSecond
            self.notificationsPerSecond = notificationsPerSecond
        }

        /// OneSignal's documented limits on the free plan.
        public static let oneSignal = RateLimits()
        /// No limits.
        public static let disabled = RateLimits(userWritesPerSecond: nil, viewsPerSecond: nil, notificationsPerSecond: nil)
    }
}

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

    /// Counts a request against `bucket` allowing `limit` per second; returns the wait before a retry may succeed
    /// when the request is refused, `nil` when it may go ahead (or `limit` is `nil`).
    mutating func acquire(_ bucket: Bucket, limit: Int?, now: ContinuousClock.Instant = .now) -> Duration? {
        guard let limit else { return nil }
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
