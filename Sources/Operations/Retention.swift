import Delivery
import Domain
import Foundation
import Logging
import PQ
import ServiceLifecycle

/// Deletes finished rows of the operational tables that grow with traffic (`hubsignal retention`, and the running
/// service every hour), in small transactions; never touches `events`, pending work or dead letters.
///
/// What it deletes, and only when older than the table's retention:
/// - ``Table/rejections``: rows of `rejections` (by `received_at`): invalid messages kept for the sender to inspect.
/// - ``Table/delivered``: `deliveries` rows of messages that went out (object kinds `event` and `notification`, state
///   `done`) whose outbox row is gone (by `updated_at`, at least ``minimumDelivered`` old): the sent work's ledger
///   entries, nothing reads them again.
///
/// What it never deletes: `events` (the log; see `hubsignal archive`), queued or dead ledger rows and their outbox rows
/// (work to do, or dead letters waiting for `hubsignal retry`), the ledger rows of contacts, companies, associations,
/// OneSignal users and segments (one per object, not per message: they hold what the destination acknowledged, which
/// the next push compares with), and `hubspot_event_queued` (the once-ever record that keeps a backfill from sending an
/// event output again after it was sent; a few dozen bytes per output).
public struct Retention: Sendable {
    /// What the retention keeps, per table.
    public struct Configuration: Sendable, Equatable {
        /// How long `rejections` rows are kept; `nil`: forever. Defaults to 90 days.
        public var rejections: Duration? = .seconds(90 * 86_400)
        /// How long the ledger rows of sent messages are kept; `nil`: forever. Defaults to 30 days; never less than
        /// ``Retention/minimumDelivered``.
        public var delivered: Duration? = .seconds(30 * 86_400)
        /// Rows deleted per transaction. Defaults to `1000`.
        public var batchSize: Int = 1000
        /// How often the running service applies the retention. Defaults to one hour.
        public var interval: Duration = .seconds(3600)

        public init() {}

        /// The retention of `table`.
        public func retention(of table: Table) -> Duration? {
            switch table {
            case .rejections: return rejections
            case .delivered: return delivered
            }
        }
    }

    /// A kind of rows the retention deletes.
    public enum Table: String, Sendable, CaseIterable, CustomStringConvertible {
        /// `rejections` rows.
        case rejections
        /// `deliveries` rows of sent messages (behavioral events, notes, timeline events, custom object records,
        /// workflow notifications).
        case delivered

        public var description: String { rawValue }
    }

    /// What one run deleted (or, in a dry run, would delete), per table; tables kept forever are absent.
    public struct Report: Sendable, Equatable {
        /// Rows per table.
        public var rows: [Table: Int] = [:]
        /// The retention applied per table.
        public var retention: [Table: Duration] = [:]
    }

    /// The shortest retention of delivered rows: a workflow notification's ledger row outlives the window in which its
    /// action can be queued again (``OneSignalOutbox/maximumAge``).
    public static let minimumDelivered: Duration = .seconds(Int64(OneSignalOutbox.maximumAge))

    let client: PQClient
    let configuration: Configuration

    public init(client: PQClient, configuration: Configuration) {
        self.client = client
        self.configuration = configuration
    }

    /// Deletes (or with `dryRun`, counts) the rows past their retention, `batchSize` rows per transaction.
    public func run(dryRun: Bool = false) async throws -> Report {
        var report = Report()
        for table in Table.allCases {
            guard let retention = configuration.retention(of: table) else { continue }
            let applied = table == .delivered ? max(retention, Self.minimumDelivered) : retention
            report.retention[table] = applied
            let seconds = Double(applied.components.seconds)
            if dryRun {
                let rows = try await client.query(
                    "SELECT count(*) FROM (\(fragment: Self.candidates(table, olderThan: seconds))) c", name: "retention.count_\(table)")
                report.rows[table] = Int(try rows[0].decode(Int64.self, at: 0))
                continue
            }
            var deleted = 0
            while true {
                let count = try await client.query(Self.deletion(table, olderThan: seconds, limit: configuration.batchSize),
                    name: "retention.delete_\(table)").count
                deleted += count
                if count < configuration.batchSize { break }
            }
            report.rows[table] = deleted
        }
        return report
    }

    /// The keys of `table`'s rows older than `seconds`.
    static func candidates(_ table: Table, olderThan seconds: Double) -> PQQuery {
        switch table {
        case .rejections:
            return "SELECT id FROM rejections WHERE received_at < now() - make_interval(secs => \(seconds))"
        case .delivered:
            return """
                SELECT d.destination, d.object_kind, d.object_key FROM deliveries d
                WHERE d.state = 'done' AND d.updated_at < now() - make_interval(secs => \(seconds))
                  AND ((d.destination = \(Destination.hubspot.rawValue) AND d.object_kind = \(DeliveryKind.event.rawValue)
                        AND NOT EXISTS (SELECT FROM hubspot_event_outbox o WHERE o.delivery_key = d.object_key))
                    OR (d.destination = \(Destination.onesignal.rawValue) AND d.object_kind = \(DeliveryKind.notification.rawValue)
                        AND NOT EXISTS (SELECT FROM onesignal_outbox o WHERE o.callback_id = d.object_key)))
                """
        }
    }

    /// Deletes at most `limit` of `table`'s rows older than `seconds`, skipping rows another transaction holds;
    /// returns one row per deleted row.
    static func deletion(_ table: Table, olderThan seconds: Double, limit: Int) -> PQQuery {
        switch table {
        case .rejections:
            return """
                DELETE FROM rejections WHERE id IN (
                    \(fragment: candidates(table, olderThan: seconds)) LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                RETURNING 1
                """
        case .delivered:
            return """
                DELETE FROM deliveries x USING (
                    \(fragment: candidates(table, olderThan: seconds)) LIMIT \(Int64(limit)) FOR UPDATE OF d SKIP LOCKED) c
                WHERE x.destination = c.destination AND x.object_kind = c.object_kind AND x.object_key = c.object_key
                  AND x.state = 'done'
                RETURNING 1
                """
        }
    }

    // MARK: - Durations

    /// Parses a retention as the environment and `hubsignal retention` take it: `<n>d`, `<n>h`, `<n>m` or `<n>s`
    /// (`30d`), or `0` / `off` for forever (`nil`).
    public static func parse(_ text: String) throws -> Duration? {
        let value = text.trimmingCharacters(in: .whitespaces).lowercased()
        if value == "0" || value == "off" { return nil }
        let units: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        guard let unit = value.last, let seconds = units[unit], let count = Int64(value.dropLast()), count > 0,
            count <= Int64.max / seconds / 1000
        else {
            throw RetentionError("'\(text.prefix(40))' is not a retention: write a positive number with d, h, m or s (30d, 12h), or 0 / off to keep forever")
        }
        return .seconds(count * seconds)
    }

    /// A retention as ``parse(_:)`` reads it: `30d`, `12h`, …, or `off`.
    public static func format(_ duration: Duration?) -> String {
        guard let duration else { return "off" }
        let seconds = duration.components.seconds
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}

/// Applies the retention every ``Retention/Configuration/interval`` while the service runs; a failed run is logged and
/// retried at the next interval.
public struct RetentionService: Service {
    let retention: Retention
    let interval: Duration
    let logger: Logger

    public init(client: PQClient, configuration: Retention.Configuration, logger: Logger) {
        self.retention = Retention(client: client, configuration: configuration)
        self.interval = configuration.interval
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let report = try await retention.run()
                let total = report.rows.values.reduce(0, +)
                if total > 0 {
                    logger.info(
                        "retention deleted rows",
                        metadata: Dictionary(uniqueKeysWithValues: report.rows.map { ("retention.\($0.key)", "\($0.value)") }))
                }
            } catch {
                logger.info("retention failed; retrying at the next interval", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

/// A retention the configuration or the command line cannot use.
public struct RetentionError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
