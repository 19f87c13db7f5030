import Crypto
import Foundation
import Logging
import PQ
import Projections

/// `hubsignal archive`: detaches old partitions of the log that every subscriber has read, keeps them in the schema
/// `hubsignal_archive` or exports them to files, lists them, and attaches them again.
///
/// - A partition is archived only when it lies wholly before the cutoff, the log's head is past its end (never the
///   partition being written, nor one ahead), and every subscription checkpoint is at or past its last event in the
///   log's reading order `(transaction_id, position)`; otherwise ``ArchiveError`` names what holds it.
/// - Each partition is detached in a transaction of its own that waits at most ``Configuration/lockTimeout`` for its
///   locks; appends wait for the detach itself (milliseconds), never for the checks.
/// - The idempotency keys stay in `event_keys`: a retried message whose event is archived is still a duplicate.
/// - While partitions are archived, work that reads the whole log (a rebuild of the read models, a backfill) refuses
///   to run (``ArchivedHistory``).
/// - Run it as the owner of the log (the role that runs `hubsignal migrate`): detaching and attaching are DDL.
public struct Archive: Sendable {
    /// The schema archived partitions are kept in.
    public static let schema = "hubsignal_archive"
    /// The columns of an exported file, in order (a `COPY … FROM` text file, one line per event).
    public static let columns = [
        "position", "transaction_id", "stream", "type", "source", "idempotency_key", "occurred_at", "recorded_at", "payload",
        "metadata",
    ]

    /// Where an archived partition is.
    public enum Location: Sendable, Equatable {
        /// The table `hubsignal_archive.<partition>`.
        case database
        /// Exported to `path` (whose SHA-256, hex, is `sha256`); the table was dropped.
        case file(path: String, sha256: String)
    }

    /// An archived partition (a row of `event_archive`).
    public struct Entry: Sendable, Equatable {
        /// `events_p<13 digits>`.
        public var partition: String
        /// Its range of positions, `[fromPosition, toPosition)`.
        public var fromPosition: Int64
        public var toPosition: Int64
        /// Its events.
        public var rowCount: Int64
        /// The largest transaction id among them; `nil` when it has none.
        public var maxTransactionID: UInt64?
        public var archivedAt: Date
        public var location: Location
    }

    /// What to archive: the partitions wholly before a position, or whose last event was recorded before a time.
    public enum Cutoff: Sendable, Equatable {
        case position(Int64)
        case date(Date)

        /// A position (`1000000`) or an ISO 8601 date or time (`2026-01-01`, `2026-01-01T00:00:00Z`).
        public init(parsing text: String) throws {
            let value = text.trimmingCharacters(in: .whitespaces)
            if let position = Int64(value), position > 0 {
                self = .position(position)
                return
            }
            let full = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions.insert(.withFractionalSeconds)
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            guard let date = full.date(from: value) ?? fractional.date(from: value) ?? day.date(from: value) else {
                throw ArchiveError("'\(text.prefix(40))' is neither a position (a positive integer) nor an ISO 8601 date (2026-01-01 or 2026-01-01T00:00:00Z)")
            }
            self = .date(date)
        }
    }

    /// How archiving waits and reads.
    public struct Configuration: Sendable {
        /// How long a detach or an attach waits for its locks before giving up (nothing changed then). Defaults to 10 s.
        public var lockTimeout: Duration = .seconds(10)
        /// Events read per query when exporting. Defaults to `10000`.
        public var exportBatchSize: Int = 10_000

        public init() {}
    }

    let client: PQClient
    let logger: Logger
    public var configuration = Configuration()

    public init(client: PQClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: - List

    /// The archived partitions, in position order.
    public func list() async throws -> [Entry] {
        try await Self.entries(client.query(
            """
            SELECT partition_name, from_position, to_position, row_count, max_transaction_id, archived_at, file_path, file_sha256
            FROM event_archive ORDER BY from_position
            """, name: "archive.list"))
    }

    /// The partitions archived as tables in the database (not exported), in position order.
    public static func keptInDatabase(client: PQClient) async throws -> [String] {
        // Before migration 0023 (online: the service runs while it is pending) nothing can be archived.
        let exists = try await client.query("SELECT to_regclass('event_archive') IS NOT NULL", name: "archive.catalog_exists")
        guard try exists[0].decode(Bool.self, at: 0) else { return [] }
        return try await client.query(
            "SELECT partition_name FROM event_archive WHERE location = 'schema' ORDER BY from_position", name: "archive.kept"
        ).map { try $0.decode(String.self, at: 0) }
    }

    // MARK: - Archive

    /// Archives every attached partition wholly before `cutoff` that may be archived, oldest first; with `directory`,
    /// exports them (and those already archived in the database before `cutoff`) to files there and drops their
    /// tables. Returns the entries it archived or exported.
    ///
    /// Stops at the first partition a subscriber has not read (``ArchiveError``, naming the subscriber); the partitions
    /// before it stay archived.
    public func archive(before cutoff: Cutoff, exportTo directory: String? = nil) async throws -> [Entry] {
        try await PQClient.withStatementTimeout(.zero) {
            try await requirePartitionedLog()
            if let directory {
                var isDirectory: ObjCBool = false
                guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                    throw ArchiveError("--to \(directory): no such directory")
                }
            }
            var done: [Entry] = []
            for partition in try await candidates(before: cutoff) {
                do {
                    done.append(try await Self.explainingLockTimeout { try await detach(partition) })
                } catch let error as ArchiveError where !done.isEmpty {
                    throw ArchiveError(error.description + " (\(done.count) older partition(s) were archived: hubsignal archive --list)")
                }
            }
            guard let directory else { return done }
            let bound: Int64 = switch cutoff {
            case .position(let position): position
            case .date: done.map(\.toPosition).max() ?? 0
            }
            var exported: [Entry] = []
            for entry in try await list() where entry.location == .database && (entry.toPosition <= bound || done.contains(entry)) {
                exported.append(try await export(entry, to: directory))
            }
            return exported
        }
    }

    /// The attached partitions before `cutoff` that the head has passed, oldest first.
    func candidates(before cutoff: Cutoff) async throws -> [ArchivedHistory.Partition] {
        let head = try await client.query(
            """
            SELECT GREATEST(
                COALESCE(pg_sequence_last_value(pg_get_serial_sequence('event_keys', 'position')::regclass), 0),
                COALESCE((SELECT max(position) FROM events), 0))
            """, name: "archive.head")[0].decode(Int64.self, at: 0)
        let partitions = try await client.query(
            "SELECT partition_name, from_position, to_position FROM event_partitions ORDER BY from_position", name: "archive.attached"
        ).map { row in
            let (name, from, to) = try row.decode((String, Int64, Int64).self)
            return ArchivedHistory.Partition(name: try Self.checkedName(name), fromPosition: from, toPosition: to)
        }
        var result: [ArchivedHistory.Partition] = []
        for partition in partitions where partition.toPosition <= head {
            switch cutoff {
            case .position(let position):
                guard partition.toPosition <= position else { return result }
            case .date(let date):
                // Positions follow time: the partition's last event tells when its history ends.
                let last = try await client.query(
                    """
                    SELECT recorded_at FROM events WHERE position >= \(partition.fromPosition) AND position < \(partition.toPosition)
                    ORDER BY position DESC LIMIT 1
                    """, name: "archive.partition_end")
                if let row = last.first, try row.decode(Date.self, at: 0) >= date { return result }
            }
            result.append(partition)
        }
        return result
    }

    /// Detaches one partition into `hubsignal_archive` and records it, in one transaction, after checking that every
    /// subscriber has read it.
    func detach(_ partition: ArchivedHistory.Partition) async throws -> Entry {
        try await client.withTransaction { connection in
            try await setLockTimeout(on: connection)
            // Waits for appends still writing into it, and keeps new ones out while it is checked.
            try await connection.execute("LOCK TABLE \(identifier: partition.name) IN SHARE MODE", name: "archive.lock")
            let count = try await connection.query("SELECT count(*) FROM \(identifier: partition.name)", name: "archive.count")[0]
                .decode(Int64.self, at: 0)
            let last = try await Self.lastEvent(of: partition, on: connection)
            if let last {
                let behind = try await Self.subscribers(behind: last, on: connection)
                guard behind.isEmpty else {
                    throw ArchiveError(
                        "partition \(partition.name) (positions \(partition.fromPosition)-\(partition.toPosition - 1)) is not read yet by "
                            + "\(behind.joined(separator: ", ")): archive it once they have caught up (hubsignal status); a subscriber "
                            + "that is gone for good holds it until its row of subscription_checkpoints is deleted")
                }
            }
            try await connection.execute("ALTER TABLE events DETACH PARTITION \(identifier: partition.name)", name: "archive.detach")
            try await connection.execute(
                "ALTER TABLE \(identifier: partition.name) SET SCHEMA \(identifier: Self.schema)", name: "archive.move")
            let archivedAt = try await connection.query(
                """
                INSERT INTO event_archive (partition_name, from_position, to_position, row_count, max_transaction_id, location)
                VALUES (\(partition.name), \(partition.fromPosition), \(partition.toPosition), \(count),
                        \(last.map { String($0.0) })::xid8, 'schema')
                RETURNING archived_at
                """, name: "archive.record")[0].decode(Date.self, at: 0)
            logger.info(
                "archived a partition of the log",
                metadata: ["archive.partition": "\(partition.name)", "archive.events": "\(count)"])
            return Entry(
                partition: partition.name, fromPosition: partition.fromPosition, toPosition: partition.toPosition, rowCount: count,
                maxTransactionID: last?.0, archivedAt: archivedAt, location: .database)
        }
    }

    /// The last event of `partition` in the log's reading order, `(transaction_id, position)`; `nil` when it is empty.
    static func lastEvent(of partition: ArchivedHistory.Partition, on connection: PQConnection) async throws -> (UInt64, Int64)? {
        try await connection.query(
            "SELECT transaction_id, position FROM \(identifier: partition.name) ORDER BY transaction_id DESC, position DESC LIMIT 1",
            name: "archive.last_event"
        ).first.map { try $0.decode((UInt64, Int64).self) }
    }

    /// The subscribers whose checkpoint is before `event` (they have not read it yet), by name.
    static func subscribers(behind event: (UInt64, Int64), on connection: PQConnection) async throws -> [String] {
        try await connection.query(
            """
            SELECT name FROM subscription_checkpoints
            WHERE (transaction_id, position) < (\(String(event.0))::xid8, \(event.1)::int8) ORDER BY name
            """, name: "archive.unread"
        ).map { try $0.decode(String.self, at: 0) }
    }

    /// What ``archive(before:exportTo:)`` would do now, without changing anything: the partitions it would consider,
    /// oldest first, each with the subscribers that have not read it yet (archiving stops at the first that has some).
    public func plan(before cutoff: Cutoff) async throws -> [(partition: ArchivedHistory.Partition, unreadBy: [String])] {
        try await requirePartitionedLog()
        var plan: [(partition: ArchivedHistory.Partition, unreadBy: [String])] = []
        for partition in try await candidates(before: cutoff) {
            let unread = try await client.withConnection { connection in
                guard let last = try await Self.lastEvent(of: partition, on: connection) else { return [String]() }
                return try await Self.subscribers(behind: last, on: connection)
            }
            plan.append((partition, unread))
            if !unread.isEmpty { break }
        }
        return plan
    }

    // MARK: - Export

    /// Writes an archived table to `<directory>/<partition>.tsv` (COPY text format, ``columns``), records the file and
    /// its SHA-256, and drops the table. A failure leaves the table archived in the database.
    func export(_ entry: Entry, to directory: String) async throws -> Entry {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(entry.partition + ".tsv").standardizedFileURL.path
        let partial = path + ".partial"
        let manager = FileManager.default
        try? manager.removeItem(atPath: partial)
        guard manager.createFile(atPath: partial, contents: nil), let file = FileHandle(forWritingAtPath: partial) else {
            throw ArchiveError("cannot create \(partial)")
        }
        var hasher = SHA256()
        var written: Int64 = 0
        do {
            var after = entry.fromPosition - 1
            let selection = Self.columns.map { column in
                switch column {
                case "occurred_at", "recorded_at":
                    "to_char(\(column) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
                default: "\(column)::text"
                }
            }.joined(separator: ", ")
            while true {
                let rows = try await client.query(
                    """
                    SELECT \(unsafeRaw: selection) FROM \(identifier: Self.schema).\(identifier: entry.partition)
                    WHERE position > \(after) ORDER BY position LIMIT \(Int64(configuration.exportBatchSize))
                    """, name: "archive.export")
                guard !rows.isEmpty else { break }
                var chunk: [UInt8] = []
                for row in rows {
                    for index in 0..<Self.columns.count {
                        if index > 0 { chunk.append(UInt8(ascii: "\t")) }
                        CopyText.append(try row.decode(String?.self, at: index), to: &chunk)
                    }
                    chunk.append(UInt8(ascii: "\n"))
                    after = try row.decode(Int64.self, at: 0)
                    written += 1
                }
                hasher.update(data: chunk)
                try file.write(contentsOf: chunk)
            }
            try file.synchronize()
            try file.close()
        } catch {
            try? file.close()
            try? manager.removeItem(atPath: partial)
            throw error
        }
        guard written == entry.rowCount else {
            try? manager.removeItem(atPath: partial)
            throw ArchiveError("exporting \(entry.partition) wrote \(written) events, the catalog says \(entry.rowCount): nothing dropped")
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        try? manager.removeItem(atPath: path)
        try manager.moveItem(atPath: partial, toPath: path)
        try await client.withTransaction { connection in
            try await setLockTimeout(on: connection)
            let updated = try await connection.execute(
                """
                UPDATE event_archive SET location = 'file', file_path = \(path), file_sha256 = \(digest)
                WHERE partition_name = \(entry.partition) AND location = 'schema'
                """, name: "archive.exported")
            guard updated == 1 else { throw ArchiveError("\(entry.partition) is no longer archived in the database") }
            try await connection.execute("DROP TABLE \(identifier: Self.schema).\(identifier: entry.partition)", name: "archive.drop")
        }
        logger.info("exported an archived partition", metadata: ["archive.partition": "\(entry.partition)", "archive.file": "\(path)"])
        var exported = entry
        exported.location = .file(path: path, sha256: digest)
        return exported
    }

    // MARK: - Restore

    /// Attaches an archived partition to the log again (importing its file first when it was exported, after checking
    /// the file's SHA-256), and removes it from the catalog, in one transaction.
    @discardableResult
    public func restore(_ partition: String) async throws -> Entry {
        try await PQClient.withStatementTimeout(.zero) {
            let name = try Self.checkedName(partition)
            guard let entry = try await list().first(where: { $0.partition == name }) else {
                throw ArchiveError("no archived partition is named \(partition): hubsignal archive --list shows them")
            }
            if case .file(let path, let sha256) = entry.location {
                let actual = try Self.sha256(ofFileAt: path)
                guard actual == sha256 else {
                    throw ArchiveError("\(path) does not match the archive's checksum (SHA-256 \(actual), recorded \(sha256)): nothing restored")
                }
            }
            let logSchema = try await client.query("SELECT current_schema()", name: "archive.schema")[0].decode(String.self, at: 0)
            try await Self.explainingLockTimeout { try await client.withTransaction { connection in
                if case .file(let path, _) = entry.location {
                    try await connection.execute(
                        """
                        CREATE TABLE \(identifier: Self.schema).\(identifier: name) (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
                        """, name: "archive.create")
                    try await connection.execute(
                        """
                        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON \(identifier: Self.schema).\(identifier: name)
                        FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_refuse_event_change()
                        """, name: "archive.trigger")
                    let columns = Self.columns.map(PQQuery.quoteIdentifier).joined(separator: ", ")
                    let imported = try await connection.copyIn(
                        "COPY \(identifier: Self.schema).\(identifier: name) (\(unsafeRaw: columns)) FROM STDIN"
                    ) { writer in try CopyText.read(fileAt: path, into: &writer) }
                    guard Int64(imported) == entry.rowCount else {
                        throw ArchiveError("\(path) holds \(imported) events, the catalog says \(entry.rowCount): nothing restored")
                    }
                }
                try await setLockTimeout(on: connection)
                // A validated constraint of the partition's range: attaching it then scans nothing under the log's lock.
                try await connection.execute(
                    """
                    ALTER TABLE \(identifier: Self.schema).\(identifier: name) ADD CONSTRAINT archive_range
                    CHECK (position >= \(unsafeRaw: String(entry.fromPosition)) AND position < \(unsafeRaw: String(entry.toPosition)))
                    """, name: "archive.range")
                try await connection.execute(
                    "ALTER TABLE \(identifier: Self.schema).\(identifier: name) SET SCHEMA \(identifier: logSchema)", name: "archive.move_back")
                try await connection.execute(
                    """
                    ALTER TABLE events ATTACH PARTITION \(identifier: name)
                    FOR VALUES FROM (\(unsafeRaw: String(entry.fromPosition))) TO (\(unsafeRaw: String(entry.toPosition)))
                    """, name: "archive.attach")
                try await connection.execute("ALTER TABLE \(identifier: name) DROP CONSTRAINT archive_range", name: "archive.range_drop")
                try await connection.execute("DELETE FROM event_archive WHERE partition_name = \(name)", name: "archive.forget")
            } }
            logger.info("restored an archived partition", metadata: ["archive.partition": "\(name)", "archive.events": "\(entry.rowCount)"])
            return entry
        }
    }

    /// Restores every archived partition, oldest first; returns them.
    @discardableResult
    public func restoreAll() async throws -> [Entry] {
        var restored: [Entry] = []
        for entry in try await list() {
            restored.append(try await restore(entry.partition))
        }
        return restored
    }

    // MARK: - Helpers

    /// Runs `body`, turning a lock timeout into an ``ArchiveError`` that says what to do.
    static func explainingLockTimeout<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PQError where error.sqlState == "55P03" {
            throw ArchiveError(
                "the log's lock was not granted in time (a long query or transaction on events holds it, a rebuild for "
                    + "instance): nothing changed for this partition; try again")
        }
    }

    private func requirePartitionedLog() async throws {
        let rows = try await client.query("SELECT to_regclass('event_partitions') IS NOT NULL", name: "archive.layout")
        guard try rows[0].decode(Bool.self, at: 0) else {
            throw ArchiveError("the log is not partitioned yet: run hubsignal migrate first")
        }
    }

    private func setLockTimeout(on connection: PQConnection) async throws {
        let milliseconds = configuration.lockTimeout.components.seconds * 1000
            + configuration.lockTimeout.components.attoseconds / 1_000_000_000_000_000
        try await connection.execute("SET LOCAL lock_timeout = \(unsafeRaw: String(max(1, milliseconds)))", name: "archive.lock_timeout")
    }

    /// `name` when it is a partition name (`events_p` and 13 digits), else ``ArchiveError``.
    static func checkedName(_ name: String) throws -> String {
        let digits = name.dropFirst("events_p".count)
        guard name.hasPrefix("events_p"), digits.count == 13, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ArchiveError("'\(name.prefix(60))' is not a partition of the log (events_p and 13 digits)")
        }
        return name
    }

    static func sha256(ofFileAt path: String) throws -> String {
        guard let file = FileHandle(forReadingAtPath: path) else { throw ArchiveError("cannot read \(path)") }
        defer { try? file.close() }
        var hasher = SHA256()
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    static func entries(_ rows: PQRows) throws -> [Entry] {
        try rows.map { row in
            let (name, from, to, count, transactionID, archivedAt, path, sha256) =
                try row.decode((String, Int64, Int64, Int64, UInt64?, Date, String?, String?).self)
            return Entry(
                partition: name, fromPosition: from, toPosition: to, rowCount: count, maxTransactionID: transactionID,
                archivedAt: archivedAt, location: path.flatMap { path in sha256.map { .file(path: path, sha256: $0) } } ?? .database)
        }
    }
}

/// PostgreSQL's COPY text format for the export files: fields separated by tabs, rows by newlines, `\N` for NULL, and
/// backslash, tab, newline and carriage return escaped with a backslash.
enum CopyText {
    static func append(_ value: String?, to buffer: inout [UInt8]) {
        guard let value else {
            buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: buffer.append(byte)
            }
        }
    }

    /// The fields of one line (without its newline); `nil` for `\N`.
    static func fields(of line: ArraySlice<UInt8>) -> [String?] {
        var fields: [String?] = []
        var field: [UInt8] = []
        var index = line.startIndex
        var isNull = false
        func finish() {
            fields.append(isNull ? nil : String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            isNull = false
        }
        while index < line.endIndex {
            let byte = line[index]
            if byte == UInt8(ascii: "\t") {
                finish()
            } else if byte == UInt8(ascii: "\\"), index + 1 < line.endIndex {
                index += 1
                switch line[index] {
                case UInt8(ascii: "t"): field.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "n"): field.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): field.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "N") where field.isEmpty: isNull = true
                default: field.append(line[index])
                }
            } else {
                field.append(byte)
            }
            index += 1
        }
        finish()
        return fields
    }

    /// Feeds the rows of the file at `path` to a COPY.
    static func read(fileAt path: String, into writer: inout PQCopyWriter) throws {
        guard let file = FileHandle(forReadingAtPath: path) else { throw ArchiveError("cannot read \(path)") }
        defer { try? file.close() }
        var pending: [UInt8] = []
        while let chunk = try file.read(upToCount: 1 << 20), !chunk.isEmpty {
            pending.append(contentsOf: chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                for field in fields(of: pending[start..<newline]) { writer.append(field) }
                try writer.endRow()
                start = newline + 1
            }
            pending.removeSubrange(pending.startIndex..<start)
        }
        guard pending.isEmpty else { throw ArchiveError("\(path) ends in the middle of a line: the file is truncated") }
    }
}

/// Archiving refused or failed; the description says why and what to do.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
