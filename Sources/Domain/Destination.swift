/// A service HubSignal pushes to. The raw value is what `deliveries.destination`, `sync_status.destination` and
/// result payloads hold.
public enum Destination: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case hubspot
    case onesignal

    public var description: String { rawValue }

    /// The family of the result events HubSignal records for this destination.
    public var resultFamily: EventType.Family {
        switch self {
        case .hubspot: return .hubSpotResult
        case .onesignal: return .oneSignalResult
        }
    }
}
