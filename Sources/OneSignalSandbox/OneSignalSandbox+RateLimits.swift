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

        /// The time the windows count in: the system's, or a manual clock in tests that must not depend on speed.
        public var clock: SandboxClock

        /// Limits given one by one.
        public init(
            userWritesPerSecond: Int? = 1, viewsPerSecond: Int? = 1, notificationsPerSecond: Int? = 150,
            clock: SandboxClock = .system
        ) {
            self.userWritesPerSecond = userWritesPerSecond
            self.viewsPerSecond = viewsPerSecond
            self.notificationsPerSecond = notificationsPerSecond
            self.clock = clock
        }

        /// OneSignal's documented limits on the free plan.
        public static let oneSignal = RateLimits()
        /// No limits.
        public static let disabled = RateLimits(userWritesPerSecond: nil, viewsPerSecond: nil, notificationsPerSecond: nil)
    }
}
