import Foundation

/// Keeps HubSignal under a HubSpot account's request limits, so that it does not receive `429`s in the first place.
///
/// HubSpot counts requests in a rolling window (`limit` per `window`, e.g. 100 per 10 s) and per day. A plain token
/// bucket can overshoot a rolling window (a full bucket plus a window's refill), so this limiter keeps the send times of
/// the last `limit` requests and lets a request through only when fewer than `limit` were sent in the last `window`:
/// a token bucket whose tokens come back exactly one window after they were spent.
///
/// It is corrected by what HubSpot says: `X-HubSpot-RateLimit-Max` lowers the limit, `-Remaining` below our own count
/// means other clients share the account (their requests are counted as ours), `429` pauses everything for
/// `Retry-After` or the window, and `-Daily-Remaining: 0` or a `DAILY` `429` stops sending until the next UTC midnight
/// (the account's time zone is not known; `status` says so).
public actor HubSpotRateLimiter {
    /// The configured number of requests per window, and the window.
    public nonisolated let configuredLimit: Int
    public nonisolated let window: Duration
    private var limit: Int
    private var sent: [ContinuousClock.Instant] = []
    private var pausedUntil: ContinuousClock.Instant?
    private var dailyRemaining: Int?
    private var dailyExhaustedUntil: Date?
    private let clock = ContinuousClock()

    /// A limiter allowing `limit` requests per `window` (HubSpot: 100, 110, 190 or 250 per 10 s by plan and app type).
    public init(limit: Int, window: Duration = .seconds(10)) {
        precondition(limit > 0, "a rate limit must allow at least one request")
        self.configuredLimit = limit
        self.limit = limit
        self.window = window
    }

    /// What the limiter knows now, for `hubsignal status` and metrics.
    public struct Budget: Sendable, Equatable {
        /// Requests allowed per window (the configured value, or less when HubSpot said so).
        public var limit: Int
        /// Requests that can be sent now without waiting.
        public var remaining: Int
        /// HubSpot's last `X-HubSpot-RateLimit-Daily-Remaining`, when it sends it (private-app tokens).
        public var dailyRemaining: Int?
        /// Until when sending is stopped because the daily limit is spent.
        public var dailyExhaustedUntil: Date?
    }

    /// The current budget.
    public var budget: Budget {
        prune(now: clock.now)
        return Budget(
            limit: limit, remaining: max(0, limit - sent.count), dailyRemaining: dailyRemaining,
            dailyExhaustedUntil: dailyExhaustedUntil)
    }

    /// Waits until one more request fits in the window, and counts it.
    ///
    /// - Throws: `HubSpotError.dailyLimitReached` while the daily limit is spent (waiting would take hours: the caller
    ///   reschedules), and `CancellationError` when the task is cancelled while waiting.
    public func acquire() async throws {
        while true {
            if let until = dailyExhaustedUntil {
                if Date() < until {
                    throw HubSpotError(
                        code: .dailyLimitReached, message: "the HubSpot account's daily API limit is spent until \(until)",
                        retryAfter: .seconds(max(1, until.timeIntervalSinceNow)))
                }
                dailyExhaustedUntil = nil
            }
            let now = clock.now
            prune(now: now)
            var wakeAt: ContinuousClock.Instant?
            if let pausedUntil, pausedUntil > now {
                wakeAt = pausedUntil
            } else if sent.count >= limit {
                wakeAt = sent[sent.count - limit] + window
            }
            guard let wakeAt else {
                sent.append(now)
                return
            }
            try await Task.sleep(until: wakeAt, clock: clock)
        }
    }

    /// Corrects the limiter from the `X-HubSpot-RateLimit-*` headers of an answer (absent headers change nothing).
    public func update(maximum: Int?, remaining: Int?, dailyRemaining: Int?) {
        let now = clock.now
        prune(now: now)
        if let maximum, maximum > 0 { limit = min(configuredLimit, maximum) }
        if let remaining, remaining >= 0 {
            // Requests HubSpot counted that we did not (other clients of the account): count them as sent now.
            let unseen = (limit - remaining) - sent.count
            if unseen > 0 { sent.append(contentsOf: repeatElement(now, count: min(unseen, limit))) }
        }
        if let dailyRemaining {
            self.dailyRemaining = dailyRemaining
            if dailyRemaining <= 0 { dailyExhausted() }
        }
    }

    /// HubSpot answered `429`: nothing is sent for `retryAfter` (or one window), and the window counts as full.
    public func rateLimited(retryAfter: Duration?, isDaily: Bool) {
        if isDaily {
            dailyExhausted()
            return
        }
        let until = clock.now + (retryAfter ?? window)
        if pausedUntil.map({ $0 < until }) ?? true { pausedUntil = until }
    }

    private func dailyExhausted() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        dailyExhaustedUntil = calendar.nextDate(
            after: Date(), matching: DateComponents(hour: 0, minute: 0, second: 0), matchingPolicy: .nextTime)
    }

    private func prune(now: ContinuousClock.Instant) {
        let horizon = now - window
        if let index = sent.firstIndex(where: { $0 > horizon }) {
            if index > 0 { sent.removeFirst(index) }
        } else {
            sent.removeAll(keepingCapacity: true)
        }
    }
}
