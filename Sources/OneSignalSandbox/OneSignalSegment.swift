import Domain
import Foundation

/// A segment of a sandbox app (`shared/contracts/onesignal.md` §6): a name and filters, referenced by name in sends.
public struct OneSignalSegment: Sendable, Equatable {
    /// The id (UUID).
    public let id: String
    /// The name sends refer to.
    public internal(set) var name: String
    /// The description, if set.
    public internal(set) var description: String?
    /// The filters and operators, as sent.
    public internal(set) var filters: [JSONValue]
    /// When it was created.
    public let createdAt: Date
    /// When it was last changed.
    public internal(set) var updatedAt: Date

    /// The segment as `GET /apps/{app_id}/segments` lists it (`SegmentData`).
    func listJSON(appID: String) -> JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "created_at": .string(Self.timestamp(createdAt)),
            "updated_at": .string(Self.timestamp(updatedAt)), "app_id": .string(appID), "read_only": .bool(false),
            "is_active": .bool(true),
        ])
    }

    /// The segment as `GET /apps/{app_id}/segments/{id}` details it (`SegmentDetails`).
    var detailJSON: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "description": description.map { .string($0) } ?? .null,
            "created_at": .int(Int64(createdAt.timeIntervalSince1970)), "source": .string("custom"),
            "filters": .array(filters),
        ])
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
