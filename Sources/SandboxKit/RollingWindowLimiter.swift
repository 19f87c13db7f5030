/// Counts requests in a rolling window (e.g. 100 per 10 s): a request is allowed when fewer than `limit` requests were
/// allowed within the last `window`.
///
/// A value type: keep it inside whatever lock guards the rest of a sandbox's state.
public struct RollingWindowLimiter: Sendable {
    /// The outcome of ``acquire(at:)``.
    public struct Decision: Sendable, Equatable {
        /// Whether the request may go ahead (and was counted).
        public let allowed: Bool
        /// The window's limit.
        public let limit: Int
        /// Requests still allowed in the current window after this one.
        public let remaining: Int
        /// Time until the oldest counted request leaves the window (zero when the window is empty).
        public let resetAfter: Duration
    }

    /// Requests allowed per window.
    public private(set) var limit: Int
    /// The window's length.
    public let window: Duration
    /// Instants of the requests allowed within the window, oldest first.
    private var allowedAt: [ContinuousClock.Instant] = []
    /// Index of the first instant still in the window.
    private var head = 0

    /// A limiter allowing `limit` requests per `window`.
    public init(limit: Int, window: Duration) {
        precondition(limit >= 0, "limit must not be negative")
        precondition(window > .zero, "window must be positive")
        self.limit = limit
        self.window = window
    }

    /// Counts a request at `now` if the window has room, and says whether it may go ahead.
    public mutating func acquire(at now: ContinuousClock.Instant = .now) -> Decision {
        expire(before: now)
        let used = allowedAt.count - head
        guard used < limit else {
            return Decision(allowed: false, limit: limit, remaining: 0, resetAfter: resetAfter(now))
        }
        allowedAt.append(now)
        return Decision(allowed: true, limit: limit, remaining: limit - used - 1, resetAfter: resetAfter(now))
    }

    /// Requests still allowed at `now`, without counting one.
    public mutating func remaining(at now: ContinuousClock.Instant = .now) -> Int {
        expire(before: now)
        return max(0, limit - (allowedAt.count - head))
    }

    /// Changes the limit; requests already counted stay counted.
    public mutating func setLimit(_ limit: Int) {
        precondition(limit >= 0, "limit must not be negative")
        self.limit = limit
    }

    /// Forgets every counted request.
    public mutating func reset() {
        allowedAt.removeAll()
        head = 0
    }

    private mutating func expire(before now: ContinuousClock.Instant) {
        while head < allowedAt.count, allowedAt[head] + window <= now {
            head += 1
        }
        if head > 64, head * 2 > allowedAt.count {
            allowedAt.removeFirst(head)
            head = 0
        }
    }

    private func resetAfter(_ now: ContinuousClock.Instant) -> Duration {
        guard head < allowedAt.count else { return .zero }
        return max(.zero, allowedAt[head] + window - now)
    }
}
