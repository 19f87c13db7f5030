import Foundation

/// Search's view of the objects: with an indexing delay, search sees each object as it was `searchIndexingDelay`
/// ago (new objects are missing, changes and archives show late), as HubSpot's eventually consistent search does.
extension HubSpotState {
    /// When a version took effect: its archive time, or its last write.
    private static func effectiveTime(_ record: HubSpotRecord) -> Date {
        record.archivedAt ?? record.updatedAt
    }

    /// Keeps the object's current version for search (only while search lags behind writes).
    mutating func recordSearchVersion(type: String, id: Int, now: Date) {
        guard searchIndexingDelay > 0, let record = stores[type]?.records[id] else { return }
        var versions = searchVersions[type]?[id] ?? []
        versions.append(record)
        // Versions older than the newest one search can already see are no longer needed.
        let cutoff = now.addingTimeInterval(-searchIndexingDelay)
        if let visible = versions.lastIndex(where: { Self.effectiveTime($0) <= cutoff }), visible > 0 {
            versions.removeFirst(visible)
        }
        searchVersions[type, default: [:]][id] = versions
    }

    /// Forgets an object's versions (it was deleted for good).
    mutating func forgetSearchVersions(type: String, id: Int) {
        searchVersions[type]?[id] = nil
    }

    /// The live objects search sees at `now`, by ascending id.
    func searchableRecords(type: String, now: Date) -> [HubSpotRecord] {
        guard searchIndexingDelay > 0 else { return store(type).liveRecords }
        let cutoff = now.addingTimeInterval(-searchIndexingDelay)
        let versions = searchVersions[type] ?? [:]
        return versions.keys.sorted().compactMap { id in
            versions[id]!.last { Self.effectiveTime($0) <= cutoff }.flatMap { $0.archived ? nil : $0 }
        }
    }
}
