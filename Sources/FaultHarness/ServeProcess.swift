import EmbeddedPostgres
import Foundation

/// A real `hubsignal serve` process, started from the built executable, for fault tests and the soak bench.
///
/// Its standard error goes to a log file (kept after it exits, for diagnosis); ``kill()`` sends `SIGKILL`, the way a
/// crashed or OOM-killed process ends; ``restart()`` starts it again with the same environment and port.
public final class ServeProcess: @unchecked Sendable {
    /// The executable started.
    public let executable: URL
    /// The port it listens on.
    public let port: Int
    /// The port of its operations listener (`/readyz`, `/metrics`; `HUBSIGNAL_ADMIN_PORT`).
    public let adminPort: Int
    /// The environment it runs with (the parent's environment plus these).
    public let environment: [String: String]
    /// Where its standard error goes (appended over restarts).
    public let logFile: URL
    private let lock = NSLock()
    private var process: Process

    /// The `hubsignal` executable: `HUBSIGNAL_EXECUTABLE`, or the one built next to the running program (the test
    /// bundle or `hubsignal-bench` live in the same build folder).
    public static var defaultExecutable: URL {
        if let configured = ProcessInfo.processInfo.environment["HUBSIGNAL_EXECUTABLE"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let program = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = program.deletingLastPathComponent()
        // A test bundle on macOS is a folder: …/debug/X.xctest/Contents/MacOS/X.
        while folder.pathComponents.count > 1, folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder.appendingPathComponent("hubsignal")
    }

    /// Starts `hubsignal <command>` listening on `port`, its operations listener on `adminPort` (default: a free
    /// port), with `environment` added to the parent's.
    public init(
        executable: URL = ServeProcess.defaultExecutable, command: String = "serve", port: Int, adminPort: Int? = nil,
        environment: [String: String], logFile: URL? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw FaultHarnessError("\(executable.path) is not an executable: build it first (swift build --build-tests, or -c release)")
        }
        self.executable = executable
        self.port = port
        self.adminPort = try adminPort ?? EmbeddedPostgres.findFreePort()
        var merged = environment
        merged["HUBSIGNAL_PORT"] = String(port)
        merged["HUBSIGNAL_ADMIN_PORT"] = String(self.adminPort)
        self.environment = merged
        self.logFile =
            logFile ?? FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-serve-\(port)-\(UUID().uuidString.prefix(8)).log")
        guard FileManager.default.createFile(atPath: self.logFile.path, contents: nil) else {
            throw FaultHarnessError("could not create the log file \(self.logFile.path)")
        }
        self.command = command
        self.process = try Self.launch(executable: executable, command: command, environment: merged, logFile: self.logFile)
    }

    private let command: String

    private static func launch(executable: URL, command: String, environment: [String: String], logFile: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = [command]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        process.standardOutput = FileHandle.nullDevice
        let log = try FileHandle(forWritingTo: logFile)
        log.seekToEndOfFile()
        process.standardError = log
        try process.run()
        try? log.close()
        return process
    }

    /// The operating system's process id of the current run.
    public var processIdentifier: Int32 { lock.withLock { process.processIdentifier } }

    /// Whether the current run is alive.
    public var isRunning: Bool { lock.withLock { process.isRunning } }

    /// How the current run ended ("exit status 0", "signal 15"), or `nil` while it runs.
    public var exitDescription: String? {
        lock.withLock {
            guard !process.isRunning else { return nil }
            switch process.terminationReason {
            case .exit: return "exit status \(process.terminationStatus)"
            case .uncaughtSignal: return "signal \(process.terminationStatus)"
            @unknown default: return "status \(process.terminationStatus)"
            }
        }
    }

    /// Waits until `GET /readyz` on the operations listener answers 200 (database reachable, migrations current).
    public func waitUntilReady(timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let response = try? RawHTTP.send(port: adminPort, request: "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
                response.status == 200
            {
                return
            }
            guard isRunning else { throw FaultHarnessError("hubsignal \(command) on port \(port) exited; its log: \(logTail())") }
            guard ContinuousClock.now < deadline else {
                throw FaultHarnessError("hubsignal \(command) on port \(port) was not ready after \(timeout); its log: \(logTail())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Ends the process with `SIGKILL` (no clean-up of any kind) and waits until it is gone.
    public func kill() async {
        let process = lock.withLock { self.process }
        guard process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        await Self.waitForExit(process)
    }

    /// Sends `SIGTERM`, waits until it exits, and returns its exit status.
    @discardableResult
    public func terminate() async -> Int32 {
        let process = lock.withLock { self.process }
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGTERM) }
        await Self.waitForExit(process)
        return process.terminationStatus
    }

    /// Starts the process again (after ``kill()`` or ``terminate()``) with the same environment and port, plus
    /// `environment`.
    public func restart(environment extra: [String: String] = [:]) throws {
        try lock.withLock {
            precondition(!process.isRunning, "restart() needs the process to have exited")
            process = try Self.launch(
                executable: executable, command: command, environment: environment.merging(extra) { _, new in new }, logFile: logFile)
        }
    }

    /// The resident memory of the running process in bytes (`VmRSS` in `/proc/<pid>/status`), or `nil`.
    public var residentMemoryBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(processIdentifier)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return nil
    }

    /// The last lines of its log, for failure messages.
    public func logTail(lines: Int = 20) -> String {
        let text = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    private static func waitForExit(_ process: Process) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}

/// A fault harness that cannot do what it was asked, with the reason.
public struct FaultHarnessError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
