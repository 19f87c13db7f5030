import Foundation
import Logging

/// A private PostgreSQL primary with one synchronous streaming standby, for failover tests: a commit is acknowledged
/// only once the standby has flushed it, the primary can be killed, and the standby promoted in its place.
///
/// The standby is a `pg_basebackup -R` copy of the primary made by a role with the `REPLICATION` attribute
/// (`replicator`; `initdb`'s `pg_hba.conf` admits replication connections from 127.0.0.1). It streams from the primary
/// as `application_name=standby1`, and the primary names it in `synchronous_standby_names` with `synchronous_commit=on`
/// once it streams (set earlier, every commit of the setup would wait for a standby that does not exist yet). The
/// standby does not inherit that setting: once promoted it commits without waiting for anyone, as a promoted node
/// without a standby of its own must.
///
/// Both servers are ``EmbeddedPostgres`` servers with their supervisors: ``stop()`` stops them and deletes both data
/// directories, as does this process's exit.
public final class ReplicatedPostgres: Sendable {
    /// The primary (until ``killPrimary()``).
    public let primary: EmbeddedPostgres
    /// The synchronous standby (the primary after ``promoteStandby()``).
    public let standby: EmbeddedPostgres
    /// The standby's `application_name`, as `synchronous_standby_names` and `pg_stat_replication` name it.
    public let standbyName: String
    /// The role that took the base backup and streams the WAL.
    public let replicationUser: String
    /// The user and database of both servers' connection strings.
    public let user: String
    public let database: String

    private init(primary: EmbeddedPostgres, standby: EmbeddedPostgres, standbyName: String, replicationUser: String, user: String, database: String) {
        self.primary = primary
        self.standby = standby
        self.standbyName = standbyName
        self.replicationUser = replicationUser
        self.user = user
        self.database = database
    }

    /// A libpq connection string listing both servers, primary first, that connects to whichever accepts writes
    /// (`target_session_attrs=read-write`): the one a service is given so that it follows a failover by itself.
    public var connectionString: String {
        "host=127.0.0.1,127.0.0.1 port=\(primary.port),\(standby.port) user=\(user) dbname=\(database) target_session_attrs=read-write"
    }

    /// Starts the primary, creates the replication role, copies the primary with `pg_basebackup -R`, starts the copy
    /// as a hot standby, makes it synchronous, and returns once the primary reports it `sync` in
    /// `pg_stat_replication`.
    ///
    /// - Parameters:
    ///   - configuration: the primary's configuration (its `dataDirectory` and `port` are ignored: both servers get
    ///     temporary directories and free ports). `settings` apply to both servers; `synchronous_standby_names` is
    ///     set by this function.
    ///   - logger: where the servers' starts are logged.
    public static func start(_ configuration: EmbeddedPostgres.Configuration = .init(), logger: Logger) async throws -> ReplicatedPostgres {
        let standbyName = "standby1"
        let replicationUser = "replicator"
        var primaryConfiguration = configuration
        primaryConfiguration.dataDirectory = nil
        primaryConfiguration.port = nil
        primaryConfiguration.settings["wal_level"] = "replica"
        primaryConfiguration.settings["max_wal_senders"] = primaryConfiguration.settings["max_wal_senders"] ?? "5"
        primaryConfiguration.settings["synchronous_commit"] = "on"
        primaryConfiguration.settings.removeValue(forKey: "synchronous_standby_names")
        let primary = try await EmbeddedPostgres.start(primaryConfiguration, logger: logger)
        let standbyDirectory: String
        do {
            try await runAsPostgres(
                primary.binDirectory + "/psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(primary.port), "-U", configuration.user, "-d", "postgres",
                 "-c", "CREATE ROLE \(replicationUser) WITH REPLICATION LOGIN"],
                what: "creating the replication role")
            standbyDirectory = try makeStandbyDirectory()
        } catch {
            await primary.stop()
            throw error
        }
        let standby: EmbeddedPostgres
        do {
            try await runAsPostgres(
                primary.binDirectory + "/pg_basebackup",
                ["-h", "127.0.0.1", "-p", String(primary.port), "-U", replicationUser, "-D", standbyDirectory, "-R", "-X", "stream",
                 "--checkpoint=fast", "--no-sync"],
                what: "pg_basebackup of the primary")
            // `-R` wrote standby.signal and a primary_conninfo; the line appended last wins, and adds the standby's name.
            let conninfo = "host=127.0.0.1 port=\(primary.port) user=\(replicationUser) application_name=\(standbyName)"
            let autoConf = URL(fileURLWithPath: standbyDirectory).appendingPathComponent("postgresql.auto.conf")
            let handle = try FileHandle(forWritingTo: autoConf)
            try handle.seekToEnd()
            try handle.write(contentsOf: Data("primary_conninfo = '\(conninfo)'\n".utf8))
            try handle.close()
            // The copied server log belongs to the primary.
            try? FileManager.default.removeItem(atPath: standbyDirectory + "/server.log")

            var standbyConfiguration = configuration
            standbyConfiguration.dataDirectory = standbyDirectory
            standbyConfiguration.port = nil
            standbyConfiguration.settings["hot_standby"] = "on"
            standbyConfiguration.settings["wal_level"] = "replica"
            standbyConfiguration.settings["max_wal_senders"] = primaryConfiguration.settings["max_wal_senders"]
            standbyConfiguration.settings.removeValue(forKey: "synchronous_standby_names")
            standby = try await EmbeddedPostgres.start(standbyConfiguration, logger: logger)
        } catch {
            await primary.stop()
            try? FileManager.default.removeItem(atPath: standbyDirectory)
            throw error
        }
        let pair = ReplicatedPostgres(
            primary: primary, standby: standby, standbyName: standbyName, replicationUser: replicationUser, user: configuration.user,
            database: configuration.database)
        do {
            try await pair.psql(
                primary, "ALTER SYSTEM SET synchronous_standby_names = '\(standbyName)'", what: "naming the synchronous standby")
            try await pair.psql(primary, "SELECT pg_reload_conf()", what: "reloading the primary's configuration")
            let deadline = ContinuousClock.now + .seconds(60)
            var state = ""
            while true {
                state = try await pair.psql(
                    primary, "SELECT COALESCE(string_agg(application_name || ':' || state || ':' || sync_state, ','), '') FROM pg_stat_replication",
                    what: "reading pg_stat_replication")
                if state.contains("\(standbyName):streaming:sync") { break }
                guard ContinuousClock.now < deadline else {
                    throw EmbeddedPostgresError(
                        "the standby did not become synchronous within 60 s (pg_stat_replication: '\(state)'; standby data \(standbyDirectory))")
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        } catch {
            await pair.stop()
            throw error
        }
        logger.info(
            "embedded PostgreSQL primary and synchronous standby are running",
            metadata: ["postgres.primary_port": "\(primary.port)", "postgres.standby_port": "\(standby.port)"])
        return pair
    }

    /// Kills the primary the way a crashed server dies: `SIGKILL` to the postmaster and every process it started, with
    /// no shutdown checkpoint and no goodbye to clients (their connections are reset). Returns once the postmaster is
    /// gone; new connections to its port are refused from then on.
    public func killPrimary() async throws {
        let pidFile = primary.dataDirectory + "/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let first = text.split(separator: "\n").first, let postmaster = pid_t(first.trimmingCharacters(in: .whitespaces))
        else {
            throw EmbeddedPostgresError("the primary is not running (no readable \(pidFile))")
        }
        let children = Self.childProcesses(of: postmaster)
        Foundation.kill(postmaster, SIGKILL)
        for child in children { Foundation.kill(child, SIGKILL) }
        // Gone, or a zombie that nobody has reaped yet (the postmaster's parent is whoever adopted pg_ctl's daemon).
        let deadline = ContinuousClock.now + .seconds(10)
        while Self.isZombie(postmaster) == false {
            guard ContinuousClock.now < deadline else { throw EmbeddedPostgresError("the primary's postmaster \(postmaster) survived SIGKILL") }
            try await Task.sleep(for: .milliseconds(20))
        }
        // The server is gone: nothing for the supervisor's `pg_ctl stop` to wait for (a zombie nobody reaps still
        // answers `kill -0`, and pg_ctl would wait out its timeout on it).
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    /// Promotes the standby (`pg_promote`, waiting for the end of recovery) and returns once it accepts writes.
    public func promoteStandby() async throws {
        let promoted = try await psql(standby, "SELECT pg_promote(true, 60)", what: "promoting the standby")
        guard promoted == "t" else {
            throw EmbeddedPostgresError("pg_promote did not finish within 60 s (answered '\(promoted)'; standby data \(standby.dataDirectory))")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while try await psql(standby, "SELECT pg_is_in_recovery()", what: "checking the promotion") != "f" {
            guard ContinuousClock.now < deadline else { throw EmbeddedPostgresError("the standby was still in recovery 30 s after pg_promote") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops both servers and deletes their data directories. Safe to call twice.
    public func stop() async {
        await standby.stop()
        await primary.stop()
        try? FileManager.default.removeItem(atPath: standby.dataDirectory)
    }

    // MARK: - Helpers

    /// Runs `sql` on `server` with `psql` (unaligned, tuples only) and returns its output, trimmed.
    @discardableResult
    func psql(_ server: EmbeddedPostgres, _ sql: String, what: String) async throws -> String {
        try await Self.runAsPostgres(
            server.binDirectory + "/psql",
            ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(server.port), "-U", user, "-d", database, "-c", sql],
            what: what)
    }

    /// Runs a PostgreSQL program (as the `postgres` user when this process is root, as the servers run) and returns
    /// its standard output; throws with its standard error when it fails.
    @discardableResult
    static func runAsPostgres(_ program: String, _ arguments: [String], what: String) async throws -> String {
        let process = Process()
        if getuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", program] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: program)
            process.arguments = arguments
        }
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let (out, err) = await withCheckedContinuation { (continuation: CheckedContinuation<(Data, Data), Never>) in
            DispatchQueue.global().async {
                // Both pipes drained at once, so that neither fills up and blocks the program.
                let group = DispatchGroup()
                nonisolated(unsafe) var errorText = Data()
                group.enter()
                DispatchQueue.global().async {
                    errorText = errors.fileHandleForReading.readDataToEndOfFile()
                    group.leave()
                }
                let outputText = output.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                continuation.resume(returning: (outputText, errorText))
            }
        }
        guard process.terminationStatus == 0 else {
            throw EmbeddedPostgresError(
                "\(what) failed (\((program as NSString).lastPathComponent) exit status \(process.terminationStatus)): "
                    + String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// An empty directory for the standby, owned by the `postgres` user when this process is root.
    private static func makeStandbyDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "hubsignal-pg-standby-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw EmbeddedPostgresError("could not create a temporary directory for the standby")
        }
        let path = String(cString: created)
        if getuid() == 0, let user = getpwnam("postgres") {
            guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw EmbeddedPostgresError("could not give \(path) to the postgres user")
            }
        }
        chmod(path, 0o700)
        return path
    }

    /// The processes whose parent is `parent` (from `/proc`; empty where there is none).
    private static func childProcesses(of parent: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            // After "pid (comm) ": state, then the parent's pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }

    /// Whether `pid` is a zombie (dead, not yet reaped); `nil` when it does not exist.
    private static func isZombie(_ pid: pid_t) -> Bool? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else {
            return nil
        }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}
