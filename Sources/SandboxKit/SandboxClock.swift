import Synchronization

/// The time a sandbox's rate limits count in: the system's, or a clock a test moves by hand, so that "two requests
/// within one second" holds however slowly a loaded machine runs them.
///
/// ```swift
/// let clock = SandboxClock.manual()
/// // … two requests: the second is over the limit …
/// clock.advance(by: .seconds(1))
/// // … the window has passed …
/// ```
public final class SandboxClock: Sendable {
    private let manualTime: Mutex<ContinuousClock.Instant?>

    private init(manualTime: ContinuousClock.Instant?) {
        self.manualTime = Mutex(manualTime)
    }

    /// The system's continuous clock.
    public static var system: SandboxClock { SandboxClock(manualTime: nil) }

    /// A clock that stands still at `start` until ``advance(by:)`` moves it.
    public static func manual(startingAt start: ContinuousClock.Instant = .now) -> SandboxClock {
        SandboxClock(manualTime: start)
    }

    /// The current instant.
    public var now: ContinuousClock.Instant {
        manualTime.withLock { $0 } ?? .now
    }

    /// Moves a manual clock forward by `duration`; the system clock cannot be moved.
    public func advance(by duration: Duration) {
        manualTime.withLock { time in
            precondition(time != nil, "only a manual SandboxClock can be advanced")
            time = time.map { $0 + duration }
        }
    }
}
