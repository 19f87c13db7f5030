import Logging
import Synchronization

/// Every log line of a test, as text (level, message, metadata sorted by key, error), for checking what reaches logs.
public final class CapturedLogs: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    /// Each line.
    public var all: [String] { lines.withLock { $0 } }

    /// All lines, one per line.
    public var text: String { all.joined(separator: "\n") }

    /// A logger (level `trace`) whose lines land here.
    public func logger(label: String) -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(logs: self) }
        logger.logLevel = .trace
        return logger
    }
}

/// A log handler that keeps every line in a ``CapturedLogs``.
public struct CapturingLogHandler: LogHandler {
    let logs: CapturedLogs
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(logs: CapturedLogs) { self.logs = logs }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        logs.append("\(event.level) \(event.message) \(fields)" + (event.error.map { " error=\($0)" } ?? ""))
    }
}
