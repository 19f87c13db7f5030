import Crypto
import Foundation

/// One schema change: a `migrations/NNNN_name.sql` file.
public struct Migration: Sendable, Hashable {
    /// The number in the file name (`0001_event_log.sql` → 1).
    public var version: Int
    /// The rest of the file name without extension (`event_log`).
    public var name: String
    /// The SQL script, run in one transaction.
    public var sql: String
    /// SHA-256 of the script (line endings normalized to `\n`), hex.
    public var checksum: String

    /// A migration from its number, name and script; the checksum is computed.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
        self.checksum = Self.checksum(of: sql)
    }

    /// Whether this build's service may run while the migration is pending (a line `-- hubsignal: online` in the
    /// script): its code works on the schema before and after it, so `hubsignal migrate` can run beside the service.
    public var isOnline: Bool {
        sql.split(separator: "\n", omittingEmptySubsequences: true).contains { $0.trimmingCharacters(in: .whitespaces) == "-- hubsignal: online" }
    }

    /// The file name this migration comes from.
    public var fileName: String { String(format: "%04d_%@.sql", version, name) }

    /// SHA-256 of `sql` with CRLF line endings turned into LF, so a checkout's line-ending setting changes nothing.
    public static func checksum(of sql: String) -> String {
        let normalized = sql.replacingOccurrences(of: "\r\n", with: "\n")
        return SHA256.hash(data: Data(normalized.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The ordered migrations of a folder.
public struct MigrationSet: Sendable {
    /// The migrations, by increasing version.
    public var migrations: [Migration]

    /// Sorts `migrations` by version.
    ///
    /// - Throws: `MigrationError` when two share a version.
    public init(_ migrations: [Migration]) throws {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw MigrationError(
                .invalidFolder, "two migrations have version \(next.version): \(previous.fileName) and \(next.fileName)")
        }
        self.migrations = sorted
    }

    /// The newest version, or 0 when there is none.
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// Loads every `NNNN_name.sql` file of `directory`. Other files are ignored; a `.sql` file with a malformed name
    /// is an error, so that a typo cannot silently skip a migration.
    public static func load(from directory: URL) throws -> MigrationSet {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw MigrationError(.invalidFolder, "cannot read the migrations folder \(directory.path): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for fileName in names where fileName.hasSuffix(".sql") {
            let stem = fileName.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]), version > 0,
                stem[..<underscore].count == 4, stem.index(after: underscore) < stem.endIndex
            else {
                throw MigrationError(
                    .invalidFolder, "\(fileName) in \(directory.path) is not named NNNN_name.sql (four digits, from 0001)")
            }
            let url = directory.appendingPathComponent(fileName)
            guard let sql = try? String(contentsOf: url, encoding: .utf8) else {
                throw MigrationError(.invalidFolder, "cannot read \(url.path) as UTF-8 text")
            }
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        return try MigrationSet(migrations)
    }

    /// Finds the `migrations` folder: `HUBSIGNAL_MIGRATIONS_DIR`, then `./migrations`, then
    /// `<executable>/../share/hubsignal/migrations`, then `/usr/share/hubsignal/migrations`.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let configured = environment["HUBSIGNAL_MIGRATIONS_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("migrations")]
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../share/hubsignal/migrations").standardizedFileURL)
        candidates.append(URL(fileURLWithPath: "/usr/share/hubsignal/migrations"))
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate
            }
        }
        throw MigrationError(
            .invalidFolder,
            "no migrations folder found (looked in \(candidates.map(\.path).joined(separator: ", "))): "
                + "run from the repository root or set HUBSIGNAL_MIGRATIONS_DIR")
    }
}
