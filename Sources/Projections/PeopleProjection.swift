import EventStore
import Foundation
import Logging
import Mapping
import PQ

/// The people projection: identity graph, contacts, companies, contact–company links, audience memberships, devices
/// and message activity, built from the log with one mapping.
///
/// It works on batches: it lists what the batch's events name (identities, contacts, group ids), loads what its cache
/// lacks with a few set-based queries, applies the events in memory in log order, and writes the changes with one
/// statement per table — inside the subscription's transaction, together with the checkpoint.
public actor PeopleProjection {
    /// The projection's name: its subscription, its row in `projections`, `hubsignal rebuild --projection people`.
    public static let name = "people"
    /// The version of the projection's tables and rules; part of `version`. Raise it when either changes.
    public static let schemaVersion = 3

    /// `<schema version>-<mapping version>`: a stored projection with another version must be rebuilt.
    public static func version(mapping: Mapping) -> String { "\(schemaVersion)-\(mapping.version)" }

    let mapping: Mapping
    let tables: PeopleTables
    let logger: Logger
    /// Contacts and companies kept in memory between batches; above it, the cache is emptied.
    let cacheLimit: Int
    var state = PeopleState()
    /// Where the last batch this instance applied ended; a batch that follows another checkpoint means the cache is stale.
    var appliedThrough: LogCursor?

    /// - Parameters:
    ///   - schema: the schema of the tables (`nil`: the live tables; a rebuild passes its shadow schema).
    ///   - startsEmpty: the tables are known to be empty (a rebuild): nothing needs loading until the cache overflows.
    public init(mapping: Mapping, schema: String? = nil, startsEmpty: Bool = false, cacheLimit: Int = 100_000, logger: Logger) {
        self.mapping = mapping
        self.tables = PeopleTables(schema: schema)
        self.logger = logger
        self.cacheLimit = cacheLimit
        self.state.isComplete = startsEmpty
        self.state.tablesAreEmpty = startsEmpty
        // A rebuild starts at the origin of the log with nothing cached.
        self.appliedThrough = startsEmpty ? .origin : nil
    }

    /// Applies a batch of events (in read order) and writes the changes through `connection`, in its transaction.
    /// `checkpoint` is the stored cursor the batch follows: when it is not where this instance's last batch ended,
    /// another writer or a rolled-back transaction came between, and the cache is dropped first.
    ///
    /// With `deferWrites` (a rebuild into empty tables), changes stay in memory while the cache holds every row, and are
    /// written by `writePending(on:)` or when the cache must be emptied; each contact is then written once, not once
    /// per batch.
    public func apply(
        _ events: [RecordedEvent], after checkpoint: LogCursor?, on connection: PQConnection, deferWrites: Bool = false
    ) async throws {
        try await apply(events, decoded: events.map(PeopleInput.init), after: checkpoint, on: connection, deferWrites: deferWrites)
    }

    /// `apply` with the events already decoded (a rebuild decodes the next page while this one is applied).
    func apply(
        _ events: [RecordedEvent], decoded inputs: [PeopleInput], after checkpoint: LogCursor?, on connection: PQConnection,
        deferWrites: Bool
    ) async throws {
        if checkpoint != appliedThrough {
            if appliedThrough != nil {
                logger.debug(
                    "the checkpoint moved without this projector (another process, or a rolled-back batch): cache dropped",
                    metadata: ["projection": "\(Self.name)"])
            }
            resetCache()
        } else if state.cachedObjects > cacheLimit {
            try await writePending(on: connection)
            resetCache()
        }
        appliedThrough = nil
        try await withWorkingState { working in
            if !working.isComplete {
                var needs = PeopleNeeds()
                for input in inputs { needs.add(input, mapping: mapping) }
                try await tables.load(needs, into: &working, on: connection)
            }
            for (input, event) in zip(inputs, events) {
                working.apply(input, event: event, mapping: mapping)
            }
            if !(deferWrites && working.isComplete) {
                try await tables.flush(&working, mapping: mapping, on: connection)
            }
        }
        appliedThrough = events.last?.cursor ?? checkpoint
    }

    /// Writes the changes that `apply(…, deferWrites: true)` kept in memory: the first time into empty tables with one
    /// `COPY` per table in parallel, later in one transaction.
    public func writePending(using client: PQClient) async throws {
        guard state.hasChanges else { return }
        try await withWorkingState { working in
            if working.isComplete && working.tablesAreEmpty {
                try await tables.copyAll(&working, mapping: mapping, client: client)
            } else {
                try await client.withTransaction { connection in
                    try await tables.flush(&working, mapping: mapping, on: connection)
                }
            }
        }
    }

    /// Writes the changes that `apply(…, deferWrites: true)` kept in memory, through `connection` (in its transaction).
    public func writePending(on connection: PQConnection) async throws {
        guard state.hasChanges else { return }
        try await withWorkingState { working in
            try await tables.flush(&working, mapping: mapping, on: connection)
        }
    }

    /// Runs `body` on the state moved out of the actor's storage (async calls cannot take it `inout`; moving keeps its
    /// storage uniquely referenced, so nothing is copied), puts it back, and drops the cache if `body` fails.
    private func withWorkingState(_ body: (inout PeopleState) async throws -> Void) async throws {
        var working = state
        state = PeopleState()
        do {
            try await body(&working)
            state = working
        } catch {
            state = working
            resetCache()
            throw error
        }
    }

    /// Forgets everything cached (after a failure, or when another process wrote the tables).
    public func resetCache() {
        // An untouched cache over empty tables stays "complete": there is still nothing to load.
        let wasComplete = state.isComplete && state.tablesAreEmpty && !state.hasChanges && state.contacts.isEmpty
        state = PeopleState()
        state.isComplete = wasComplete
        state.tablesAreEmpty = wasComplete
        appliedThrough = nil
    }
}
