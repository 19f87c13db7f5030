/// Where an event came from. Idempotency keys are unique per source.
public struct EventSource: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Segment-compatible calls (identify, track, …).
    public static let segment = EventSource(rawValue: "segment")
    /// HubSpot webhooks and workflow actions.
    public static let hubspot = EventSource(rawValue: "hubspot")
    /// OneSignal message events.
    public static let onesignal = EventSource(rawValue: "onesignal")
    /// HubSignal's own results (ids assigned, values acknowledged, failures).
    public static let hubsignal = EventSource(rawValue: "hubsignal")

    /// The sources the `events` table accepts.
    public static let all: [EventSource] = [.segment, .hubspot, .onesignal, .hubsignal]

    public var description: String { rawValue }
}
