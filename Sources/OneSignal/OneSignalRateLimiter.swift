import Foundation

/// A per-app request budget for one OneSignal endpoint group: at most `limit` requests in any `window`, and a pause
/// after a `429` (for its `Retry-After`, else one window).
///
/// OneSignal counts requests when they arrive, per app and per endpoint group (users and subscriptions 1,000/s, create
/// notification 150/s on Free, views 1/s) and sends no rate-limit headers, so the limiter keeps its own count: the
/// start times of the last `limit` requests, and waits until the oldest leaves the window.
public actor OneSignalRateLimiter {
    public let limit: Int
    public let window: Duration
    private var starts: [ContinuousClock.Instant] = []
    private var next = 0
    private var pausedUntil: ContinuousClock.Instant?
    private let clock = ContinuousClock()

    /// - Parameters:
    ///   - limit: requests allowed per `window`.
    ///   - window: the counting window (one second for OneSignal).
    public init(limit: Int, window: Duration = .seconds(1)) {
        precondition(limit > 0, "a rate limit allows at least one request")
        self.limit = limit
        self.window = window
    }

    /// Waits until a request may start, and counts it.
    public func acquire() async throws {
        while true {
            let now = clock.now
            if let pausedUntil, pausedUntil > now {
                try await Task.sleep(until: pausedUntil, clock: clock)
                continue
            }
            if starts.count < limit {
                starts.append(now)
                return
            }
            let oldest = starts[next]
            let free = oldest.advanced(by: window)
            if free <= now {
                starts[next] = now
                next = (next + 1) % limit
                return
            }
            try await Task.sleep(until: free, clock: clock)
        }
    }

    /// OneSignal answered `429`: no request starts before `retryAfter` (default one window) has passed.
    public func rateLimited(retryAfter: Duration?) {
        let until = clock.now.advanced(by: retryAfter ?? window)
        if pausedUntil.map({ $0 < until }) ?? true { pausedUntil = until }
    }

    /// Requests that may start now without waiting, and whether a `429` pause holds.
    public var budget: (available: Int, paused: Bool) {
        let now = clock.now
        let used = starts.filter { $0.advanced(by: window) > now }.count
        return (limit - used, pausedUntil.map { $0 > now } ?? false)
    }
}
