import Foundation
import Logging
import Synchronization

/// A private PostgreSQL server started from the machine's PostgreSQL programs (`initdb`, `pg_ctl`), listening on a
/// loopback port. Used by `hubsignal dev`, the tests and the benchmarks.
///
/// The server is watched by a small supervisor shell process that holds the read end of a pipe from this process.
/// When the pipe closes — `stop()`, a normal exit, or this process being killed — the supervisor stops the server
/// (`pg_ctl stop -m fast`) and, for a temporary data directory, deletes it. Nothing is left behind.
///
/// As root, `initdb` and `postgres` run as the `postgres` user (they refuse to run as root).
public final class EmbeddedPostgres: Sendable {
    /// Where and how the server runs.
    public struct Configuration: Sendable {
        /// The data directory; reused when it already holds a cluster. `nil` creates a temporary one that is deleted
        /// when the server stops. Defaults to `nil`.
        public var dataDirectory: String?
        /// The loopback port; `nil` picks a free one. Defaults to `nil`.
        public var port: Int?
        /// Whether the server keeps PostgreSQL's durability settings. `false` turns off `fsync`,
        /// `synchronous_commit` and `full_page_writes`, which is fine for tests and never for benchmarks that claim
        /// durability. Defaults to `true`.
        public var isDurable: Bool = true
        /// The folder with `initdb` and `pg_ctl`; `nil` searches `HUBSIGNAL_PG_BIN`, `/usr/lib/postgresql/*/bin`
        /// (newest first) and `PATH`. Defaults to `nil`.
        public var binDirectory: String?
        /// The superuser `initdb` creates, and the user of `connectionString`. Defaults to `hubsignal`.
        public var user: String = "hubsignal"
        /// The database created for `connectionString`. Defaults to `hubsignal`.
        public var database: String = "hubsignal"
        /// Extra server settings (`name` → `value`), e.g. `max_connections`.
        public var settings: [String: String] = [:]

        /// A configuration with the defaults and these settings.
        public init(dataDirectory: String? = nil, port: Int? = nil, isDurable: Bool = true) {
            self.dataDirectory = dataDirectory
            self.port = port
            self.isDurable = isDurable
        }
    }

    /// A libpq URI for the server's database, e.g. `postgresql://hubsignal@127.0.0.1:54321/hubsignal`.
    public let connectionString: String
    /// The port the server listens on (127.0.0.1).
    public let port: Int
    /// The server's data directory.
    public let dataDirectory: String
    /// The folder of the PostgreSQL programs the server runs from.
    public let binDirectory: String
    private let process: Process
    private let control: FileHandle
    private let replies: FileHandle
    private let restarting = NSLock()

    private init(
        connectionString: String, port: Int, dataDirectory: String, binDirectory: String, process: Process, control: FileHandle,
        replies: FileHandle
    ) {
        self.connectionString = connectionString
        self.port = port
        self.dataDirectory = dataDirectory
        self.binDirectory = binDirectory
        self.process = process
        self.control = control
        self.replies = replies
    }

    /// Starts a server and returns once it accepts connections.
    public static func start(_ configuration: Configuration = .init(), logger: Logger) async throws -> EmbeddedPostgres {
        let binDirectory = try configuration.binDirectory ?? findBinDirectory()
        let isRoot = getuid() == 0
        if isRoot, getpwnam("postgres") == nil {
            throw EmbeddedPostgresError(
                "running as root, but there is no 'postgres' user to run initdb and postgres as (they refuse root): "
                    + "install Debian's postgresql package, which creates it, or run as another user")
        }
        var attempts = 0
        while true {
            attempts += 1
            let port = try configuration.port ?? findFreePort()
            let ephemeral = configuration.dataDirectory == nil
            let dataDirectory: String
            if let directory = configuration.dataDirectory {
                dataDirectory = URL(fileURLWithPath: directory).standardizedFileURL.path
            } else {
                dataDirectory = try makeTemporaryDirectory()
            }
            do {
                let server = try await launch(
                    configuration: configuration, binDirectory: binDirectory, dataDirectory: dataDirectory, port: port,
                    ephemeral: ephemeral, logger: logger)
                return server
            } catch let error as EmbeddedPostgresError where configuration.port == nil && attempts < 3 && error.mayBePortClash {
                logger.debug("embedded PostgreSQL did not start; trying another port", metadata: ["error": "\(error.message)"])
                continue
            }
        }
    }

    /// Stops the server and waits until it is down (and its temporary directory deleted). Safe to call twice.
    public func stop() async {
        try? control.close()
        let process = self.process
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }

    /// How the server shuts down in ``restart(mode:)``, as `pg_ctl -m` names it.
    public enum ShutdownMode: String, Sendable {
        /// Sessions are ended, open transactions rolled back, and a checkpoint written.
        case fast
        /// Every process quits at once, without a checkpoint: the next start runs crash recovery, as after a power
        /// loss of the server alone.
        case immediate
    }

    /// Stops the server with `mode` and starts it again on the same data directory, port and settings; returns once
    /// it accepts connections. Every client connection is lost. For fault tests.
    ///
    /// The supervisor runs `pg_ctl restart` (a command on its standard input), so no further child process of this
    /// one is involved.
    public func restart(mode: ShutdownMode) async throws {
        let control = self.control
        let replies = self.replies
        let lock = restarting
        let reply = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            DispatchQueue.global().async {
                lock.lock()
                defer { lock.unlock() }
                do {
                    try control.write(contentsOf: Data("restart \(mode.rawValue)\n".utf8))
                } catch {
                    continuation.resume(returning: "the supervisor is gone (\(error))")
                    return
                }
                var seen = ""
                while true {
                    let data = replies.availableData
                    if data.isEmpty {
                        continuation.resume(returning: "the supervisor is gone")
                        return
                    }
                    seen += String(decoding: data, as: UTF8.self)
                    if let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("RESTART") }) {
                        continuation.resume(returning: String(line))
                        return
                    }
                }
            }
        }
        guard reply == "RESTARTED" else {
            throw EmbeddedPostgresError("PostgreSQL did not restart (data directory \(dataDirectory)): \(reply)")
        }
    }

    // MARK: - Launching

    private static func launch(
        configuration: Configuration, binDirectory: String, dataDirectory: String, port: Int, ephemeral: Bool, logger: Logger
    ) async throws -> EmbeddedPostgres {
        var settings = configuration.settings
        if !configuration.isDurable {
            settings["fsync"] = settings["fsync"] ?? "off"
            settings["synchronous_commit"] = settings["synchronous_commit"] ?? "off"
            settings["full_page_writes"] = settings["full_page_writes"] ?? "off"
        }
        let options = settings.sorted { $0.key < $1.key }.map { "-c \($0.key)=\($0.value)" }.joined(separator: " ")

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", supervisorScript, "hubsignal-postgres", binDirectory, dataDirectory, String(port), ephemeral ? "1" : "0",
            options, configuration.user, configuration.database,
        ]
        let input = Pipe()
        let output = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        try process.run()

        let ready = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            DispatchQueue.global().async {
                var seen = ""
                while true {
                    let data = output.fileHandleForReading.availableData
                    if data.isEmpty {
                        continuation.resume(returning: false)
                        return
                    }
                    seen += String(decoding: data, as: UTF8.self)
                    if seen.contains("READY\n") {
                        continuation.resume(returning: true)
                        return
                    }
                }
            }
        }
        guard ready else {
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw EmbeddedPostgresError(
                "PostgreSQL did not start (data directory \(dataDirectory), port \(port)): "
                    + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        logger.info(
            "embedded PostgreSQL is running",
            metadata: ["postgres.port": "\(port)", "postgres.data": "\(dataDirectory)", "postgres.durable": "\(configuration.isDurable)"])
        return EmbeddedPostgres(
            connectionString: "postgresql://\(configuration.user)@127.0.0.1:\(port)/\(configuration.database)",
            port: port, dataDirectory: dataDirectory, binDirectory: binDirectory, process: process,
            control: input.fileHandleForWriting, replies: output.fileHandleForReading)
    }

    /// The supervisor: starts the server, prints READY, waits for its standard input to close, stops the server.
    static let supervisorScript = #"""
        set -u
        BIN="$1"; DATA="$2"; PORT="$3"; EPHEMERAL="$4"; OPTIONS="$5"; PGUSER_NAME="$6"; DB="$7"
        as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
        cleanup() {
          if [ -f "$DATA/postmaster.pid" ]; then as_postgres "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >/dev/null 2>&1; fi
          if [ "$EPHEMERAL" = 1 ]; then rm -rf "$DATA"; fi
        }
        trap cleanup EXIT
        trap 'exit 1' INT TERM HUP PIPE
        cd /
        mkdir -p "$DATA" || exit 1
        if [ "$(id -u)" = 0 ]; then chown postgres: "$DATA" && chmod 700 "$DATA" || exit 1; fi
        if [ ! -s "$DATA/PG_VERSION" ]; then
          if ! INITLOG=$(as_postgres "$BIN/initdb" -D "$DATA" -U "$PGUSER_NAME" --auth=trust -E UTF8 --no-locale 2>&1); then
            echo "initdb failed: $INITLOG" >&2; exit 1
          fi
        fi
        if ! as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
             -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories= $OPTIONS" start >/dev/null 2>&1; then
          echo "pg_ctl start failed; the server log says:" >&2; tail -n 15 "$DATA/server.log" >&2; exit 1
        fi
        if ! "$BIN/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
          "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" "$DB" >&2 || exit 1
        fi
        echo READY
        # Commands on standard input: "restart fast|immediate" (fault tests). End of input stops the server.
        while read -r COMMAND MODE; do
          case "$COMMAND" in
            restart)
              if as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -m "$MODE" -w -t 60 restart >/dev/null 2>&1; then
                echo RESTARTED
              else
                echo "RESTART_FAILED: $(tail -n 5 "$DATA/server.log" | tr '\n' ' ')"
              fi ;;
          esac
        done
        """#

    // MARK: - Helpers

    /// Finds the folder holding `initdb` and `pg_ctl`.
    public static func findBinDirectory() throws -> String {
        let fileManager = FileManager.default
        if let configured = ProcessInfo.processInfo.environment["HUBSIGNAL_PG_BIN"], !configured.isEmpty {
            guard fileManager.isExecutableFile(atPath: configured + "/initdb") else {
                throw EmbeddedPostgresError("HUBSIGNAL_PG_BIN=\(configured) has no initdb program")
            }
            return configured
        }
        let debianRoot = "/usr/lib/postgresql"
        if let versions = try? fileManager.contentsOfDirectory(atPath: debianRoot) {
            let sorted = versions.compactMap { Int($0) }.sorted(by: >)
            for version in sorted where fileManager.isExecutableFile(atPath: "\(debianRoot)/\(version)/bin/initdb") {
                return "\(debianRoot)/\(version)/bin"
            }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            if fileManager.isExecutableFile(atPath: "\(directory)/initdb"), fileManager.isExecutableFile(atPath: "\(directory)/pg_ctl") {
                return String(directory)
            }
        }
        throw EmbeddedPostgresError(
            "PostgreSQL's server programs (initdb, pg_ctl) were not found: install them (Debian/Ubuntu: "
                + "`apt-get install postgresql`; macOS: `brew install postgresql`), or set HUBSIGNAL_PG_BIN to their folder")
    }

    /// A free loopback port for a server to listen on, never one this process handed out before.
    ///
    /// Chosen below the kernel's ephemeral range (`ip_local_port_range` on Linux), where outgoing connections take
    /// their local ports: a port from that range can be taken by any client connection between this call and the
    /// server's `bind`.
    public static func findFreePort() throws -> Int {
        let (low, high) = listeningPortRange()
        for _ in 0..<200 {
            let candidate = Int.random(in: low...high)
            guard handedOutPorts.withLock({ !$0.contains(candidate) }), try isFree(candidate) else { continue }
            if handedOutPorts.withLock({ $0.insert(candidate).inserted }) { return candidate }
        }
        throw EmbeddedPostgresError("no free loopback port between \(low) and \(high) after 200 tries")
    }

    private static let handedOutPorts = Mutex<Set<Int>>([])

    /// Ports below the kernel's ephemeral range, at most 20,000 of them, not below 10,000.
    static func listeningPortRange() -> (low: Int, high: Int) {
        var ephemeralLow = 32768
        if let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
            let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).first, let value = Int(first)
        {
            ephemeralLow = value
        }
        let high = max(10_001, ephemeralLow - 1)
        return (max(10_000, high - 20_000), high)
    }

    /// Whether a loopback socket can bind `port` now.
    private static func isFree(_ port: Int) throws -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw EmbeddedPostgresError("could not open a socket to find a free port") }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "hubsignal-pg-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw EmbeddedPostgresError("could not create a temporary directory for PostgreSQL")
        }
        return String(cString: created)
    }
}

/// Why the embedded PostgreSQL server could not start.
public struct EmbeddedPostgresError: Error, CustomStringConvertible {
    /// What went wrong and what to do.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
    var mayBePortClash: Bool { message.contains("pg_ctl start failed") }
}
