import Foundation

/// When to try a failed delivery again: exponential backoff with full jitter, capped, and a number of attempts after
/// which a delivery that keeps failing is parked as a dead letter (visible in `sync_status` and `hubsignal status`,
/// revived by `hubsignal retry` or by new values).
public struct RetryPolicy: Sendable, Equatable {
    /// The delay after the first failure (default 1 s); it doubles with each further failure.
    public var initialDelay: Duration
    /// The longest delay (default 10 minutes).
    public var maximumDelay: Duration
    /// Attempts before a delivery that only ever met retryable errors becomes a dead letter (default 20, about
    /// two and a half hours of trying with the defaults).
    public var maximumAttempts: Int

    public init(initialDelay: Duration = .seconds(1), maximumDelay: Duration = .seconds(600), maximumAttempts: Int = 20) {
        self.initialDelay = initialDelay
        self.maximumDelay = maximumDelay
        self.maximumAttempts = maximumAttempts
    }

    /// The delay before attempt `attempts + 1`, after `attempts` failures: a random point in
    /// [d/2, d] where d = min(initial × 2^(attempts-1), maximum), but at least `floor` (e.g. HubSpot's `Retry-After`).
    public func delay(afterAttempts attempts: Int, atLeast floor: Duration? = nil) -> Duration {
        let exponent = min(max(attempts - 1, 0), 30)
        let base = min(seconds(initialDelay) * pow(2, Double(exponent)), seconds(maximumDelay))
        let jittered = Double.random(in: (base / 2)...base)
        return .milliseconds(Int64(max(jittered, floor.map(seconds) ?? 0) * 1000))
    }

    private func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}
