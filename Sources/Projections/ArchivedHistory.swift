import Foundation
import PQ

/// The partitions of the log that `hubsignal archive` detached (the table `event_archive`): what a reader of the whole
/// log must refuse to run without.
public enum ArchivedHistory {
    /// One archived partition, as `event_archive` lists it.
    public struct Partition: Sendable, Equatable {
        /// The partition's table name, `events_p<13 digits>`.
        public var name: String
        /// Its first position (inclusive).
        public var fromPosition: Int64
        /// The position after its last (exclusive).
        public var toPosition: Int64

        public init(name: String, fromPosition: Int64, toPosition: Int64) {
            self.name = name
            self.fromPosition = fromPosition
            self.toPosition = toPosition
        }
    }

    /// The archived partitions in position order; empty on a database migrated before `event_archive` existed.
    public static func partitions(client: PQClient) async throws -> [Partition] {
        let exists = try await client.query("SELECT to_regclass('event_archive') IS NOT NULL", name: "archive.catalog_exists")
        guard try exists[0].decode(Bool.self, at: 0) else { return [] }
        return try await client.query(
            "SELECT partition_name, from_position, to_position FROM event_archive ORDER BY from_position", name: "archive.partitions"
        ).map { row in
            let (name, from, to) = try row.decode((String, Int64, Int64).self)
            return Partition(name: name, fromPosition: from, toPosition: to)
        }
    }

    /// The position before which the log's history is archived, and the number of archived partitions; `nil` when
    /// none is (`hubsignal status` and `hubsignal events` say so).
    public static func archivedBefore(client: PQClient) async throws -> (position: Int64, partitions: Int)? {
        let archived = try await partitions(client: client)
        guard let position = archived.map(\.toPosition).max() else { return nil }
        return (position, archived.count)
    }

    /// Throws ``ArchivedHistoryError`` naming the archived partitions and the restore command when there are any:
    /// `work` (a rebuild, a backfill) reads the whole log and would silently miss their events.
    ///
    /// - Parameter since: for work that only needs events that occurred from then on: allowed when the log's first
    ///   attached event was recorded at or before it (an event occurs before it is recorded, so every archived one
    ///   occurred earlier).
    public static func refuseWhileArchived(client: PQClient, work: String, since: Date? = nil) async throws {
        let archived = try await partitions(client: client)
        guard !archived.isEmpty else { return }
        if let since {
            let first = try await client.query("SELECT recorded_at FROM events ORDER BY position LIMIT 1", name: "archive.first_attached")
            if let row = first.first, try row.decode(Date.self, at: 0) <= since { return }
        }
        throw ArchivedHistoryError(work: work, partitions: archived)
    }
}

/// Work that reads the whole log, refused while partitions are archived.
public struct ArchivedHistoryError: Error, Sendable, CustomStringConvertible {
    /// What was refused (`a rebuild of the read models`, …).
    public var work: String
    /// The archived partitions.
    public var partitions: [ArchivedHistory.Partition]

    public var description: String {
        let names = partitions.prefix(10).map(\.name).joined(separator: ", ") + (partitions.count > 10 ? ", …" : "")
        let before = partitions.map(\.toPosition).max() ?? 0
        return "\(work) would miss the events of \(partitions.count) archived partition(s) of the log (\(names); history before "
            + "position \(before)): restore them first with `hubsignal archive --restore --all`, then archive them again"
    }
}
