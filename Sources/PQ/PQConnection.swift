import CLibPQ
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// One PostgreSQL connection, lent by `PQClient` to one task at a time.
///
/// Every libpq call runs on the client's own thread pool, never on Swift's cooperative pool. Cancelling the task that
/// awaits a statement sends a cancel request to the server; the connection is then retired rather than reused.
public final class PQConnection: @unchecked Sendable {
    // Invariant: `pointer` and `statementCache` are touched only while holding `lock`, and only on `threadPool`
    // threads; the pool lends the connection to one task at a time, so the lock is never contended in practice.
    private let pointer: OpaquePointer
    /// libpq's cancel handle; `nil` once freed (`closeNow`). Guarded by its own lock: cancels come from other threads.
    private let cancelHandle: NIOLockedValueBox<OpaquePointer?>
    private let lock = NIOLock()
    private let threadPool: NIOThreadPool
    private let noticeBox: Unmanaged<NoticeBox>
    private var statementCache: [String: String] = [:]
    private var nextStatementNumber = 0
    private let statementCacheCapacity: Int
    private let flags = NIOLockedValueBox(Flags())
    let logger: Logger

    struct Flags {
        var isBroken = false
        var wasCanceled = false
        var isClosed = false
        /// A statement of `run` is executing (the connection lock is held for it).
        var isRunning = false
    }

    /// The server's version number, e.g. `150018` for 15.18.
    public let serverVersion: Int

    /// Whether the connection is known to be unusable (lost, or left in an unknown protocol state).
    public var isBroken: Bool { flags.withLockedValue { $0.isBroken } }

    var wasCanceled: Bool { flags.withLockedValue { $0.wasCanceled } }

    private init(pointer: OpaquePointer, threadPool: NIOThreadPool, statementCacheCapacity: Int, noticeBox: Unmanaged<NoticeBox>, logger: Logger) {
        self.pointer = pointer
        self.cancelHandle = NIOLockedValueBox(PQgetCancel(pointer))
        self.threadPool = threadPool
        self.statementCacheCapacity = statementCacheCapacity
        self.noticeBox = noticeBox
        self.logger = logger
        self.serverVersion = Int(PQserverVersion(pointer))
    }

    deinit {
        closeNow()
    }

    // MARK: - Connecting

    /// Opens a connection (blocking; call on a pool thread).
    static func connectBlocking(configuration: PQClient.Configuration, threadPool: NIOThreadPool, logger: Logger) throws -> PQConnection {
        let pointer = try openLibPQConnection(configuration)
        let box = Unmanaged.passRetained(NoticeBox(logger: logger))
        PQsetNoticeReceiver(pointer, { argument, result in
            guard let argument, let result else { return }
            let box = Unmanaged<NoticeBox>.fromOpaque(argument).takeUnretainedValue()
            let severity = PQresultErrorField(result, Int32(UInt8(ascii: "V"))).map { String(cString: $0) } ?? "NOTICE"
            let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? ""
            if severity == "FATAL" || severity == "PANIC" { box.sawFatal = true }
            box.logger.debug("postgres notice", metadata: ["pq.severity": "\(severity)", "pq.message": "\(message)"])
        }, box.toOpaque())

        let connection = PQConnection(
            pointer: pointer, threadPool: threadPool, statementCacheCapacity: configuration.statementCacheCapacity,
            noticeBox: box, logger: logger)
        // Fixed output formats, so that decoding never depends on server or role defaults.
        try connection.lock.withLock {
            _ = try connection.simpleQueryLocked(
                "SET DateStyle = 'ISO, MDY'; SET TimeZone = 'UTC'; SET bytea_output = 'hex'; SET extra_float_digits = 3"
                    + sessionStatementTimeoutSQL(configuration.statementTimeout),
                name: "session setup")
        }
        return connection
    }

    /// The session setup's `statement_timeout`: the configured default, unless the connection itself (the connection
    /// string's `options`, `PGOPTIONS`: source `client`) or the role or database (`ALTER ROLE`/`ALTER DATABASE … SET`)
    /// chose one. Only trusted text: the value is a number of milliseconds.
    static func sessionStatementTimeoutSQL(_ timeout: Duration?) -> String {
        guard let timeout else { return "" }
        return "; SELECT set_config('statement_timeout', '\(max(0, timeout.wholeMillisecondsRoundedUp))', false) FROM pg_catalog.pg_settings"
            + " WHERE name = 'statement_timeout' AND source NOT IN ('client', 'user', 'database', 'database user')"
    }

    // MARK: - Public API

    /// Runs a statement and returns its rows.
    ///
    /// - Parameters:
    ///   - query: the statement; interpolated values travel as bind parameters.
    ///   - name: a name for errors, logs and metrics, instead of the start of the SQL text.
    @discardableResult
    public func query(_ query: PQQuery, name: String? = nil) async throws -> PQRows {
        let query = name.map { query.named($0) } ?? query
        return try await run(query.name) { connection in try connection.executeLocked(query) }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PQQuery, name: String? = nil) async throws -> Int {
        try await self.query(query, name: name).affectedRows
    }

    /// Runs one or more trusted statements through the simple query protocol (no parameters), for schema scripts.
    ///
    /// > Warning: never pass text that contains untrusted input.
    public func simpleQuery(unsafeSQL sql: String, name: String? = nil) async throws {
        let name = name ?? PQQuery.defaultName(for: sql)
        _ = try await run(name) { connection in try connection.simpleQueryLocked(sql, name: name) }
    }

    /// Streams rows into `COPY … FROM STDIN` (text format) and returns the number of rows copied.
    ///
    /// - Parameters:
    ///   - query: a `COPY table (columns) FROM STDIN` statement without parameters.
    ///   - produce: writes the rows; runs on the connection's thread, so it must not block on other work.
    @discardableResult
    public func copyIn(_ query: PQQuery, _ produce: @escaping @Sendable (inout PQCopyWriter) throws -> Void) async throws -> Int {
        precondition(query.parameters.isEmpty, "COPY statements take no bind parameters")
        return try await run(query.name) { connection in try connection.copyInLocked(query, produce) }
    }

    /// Whether the connection is idle, inside a transaction, or inside a failed transaction.
    public var transactionStatus: TransactionStatus {
        lock.withLock {
            switch PQtransactionStatus(pointer) {
            case PQTRANS_IDLE: return .idle
            case PQTRANS_INTRANS: return .inTransaction
            case PQTRANS_INERROR: return .failedTransaction
            case PQTRANS_ACTIVE: return .active
            default: return .unknown
            }
        }
    }

    /// The connection's transaction state, as libpq reports it.
    public enum TransactionStatus: Sendable {
        case idle, inTransaction, failedTransaction, active, unknown
    }

    /// The connection's effective libpq settings (`PQconninfo`: the connection string over the client's defaults over
    /// libpq's), passwords left out.
    func connectionOptions() -> [String: String] {
        lock.withLock {
            guard let options = PQconninfo(pointer) else { return [:] }
            defer { PQconninfoFree(options) }
            var result: [String: String] = [:]
            var option = options
            while let keyword = option.pointee.keyword {
                let name = String(cString: keyword)
                if let value = option.pointee.val, name != "password" { result[name] = String(cString: value) }
                option += 1
            }
            return result
        }
    }

    // MARK: - Running blocking work

    /// Runs `body` on the thread pool with the connection locked; a task cancellation cancels the statement.
    func run<T: Sendable>(_ name: String, _ body: @escaping @Sendable (PQConnection) throws -> T) async throws -> T {
        if isBroken {
            throw PQError(code: .connectionLost, message: "the connection was lost earlier", queryName: name)
        }
        try Task.checkCancellation()
        return try await withTaskCancellationHandler {
            do {
                return try await threadPool.runIfActive { [self] in
                    try lock.withLock {
                        // Cancelled while waiting for a thread: the server has nothing to cancel yet, so do not start.
                        if flags.withLockedValue({ $0.wasCanceled }) { throw CancellationError() }
                        flags.withLockedValue { $0.isRunning = true }
                        defer { flags.withLockedValue { $0.isRunning = false } }
                        return try body(self)
                    }
                }
            } catch let error as PQError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw PQError(code: .poolClosed, message: "the client's thread pool is shut down", queryName: name, underlying: error)
            }
        } onCancel: {
            self.cancel()
        }
    }

    /// Asks the server to cancel the running statement; the connection is retired afterwards.
    ///
    /// PostgreSQL drops a cancel request that arrives before the statement does (a backend waiting for a command ignores
    /// it), so the request is repeated every 200 ms while the statement runs, for at most 10 s.
    func cancel() {
        flags.withLockedValue { $0.wasCanceled = true }
        sendCancelRequest()
        Task.detached { [self] in
            for _ in 0..<50 {
                try? await Task.sleep(for: .milliseconds(200))
                guard flags.withLockedValue({ $0.isRunning }) else { return }
                sendCancelRequest()
            }
        }
    }

    private func sendCancelRequest() {
        cancelHandle.withLockedValue { handle in
            guard let handle else { return }
            var errorBuffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle, &errorBuffer, Int32(errorBuffer.count))
        }
    }

    /// Closes the connection. Safe to call more than once.
    func closeNow() {
        let shouldClose = flags.withLockedValue { flags -> Bool in
            defer { flags.isClosed = true }
            return !flags.isClosed
        }
        guard shouldClose else { return }
        lock.withLock {
            cancelHandle.withLockedValue { handle in
                if let handle { PQfreeCancel(handle) }
                handle = nil
            }
            PQfinish(pointer)
        }
        noticeBox.release()
    }

    /// Checks, without blocking, that an idle connection is still usable: the server may have closed it (restart,
    /// `pg_terminate_backend`, idle timeout) while it sat in the pool.
    func isUsableWhenIdle() -> Bool {
        guard !isBroken, !wasCanceled else { return false }
        return lock.withLock {
            guard PQstatus(pointer) == CONNECTION_OK, PQtransactionStatus(pointer) == PQTRANS_IDLE else { return false }
            // Data on an idle connection: a notice, a notification, or an error just before the server closed it,
            // which libpq reports as a FATAL notice before it sees the end of the stream. Read it all.
            for _ in 0..<2 {
                var descriptor = pollfd(fd: PQsocket(pointer), events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, 0)
                if ready < 0 { return false }
                if ready == 0 { break }
                if PQconsumeInput(pointer) == 0 { return false }
                while let notification = PQnotifies(pointer) { PQfreemem(notification) }
            }
            if noticeBox.takeUnretainedValue().sawFatal { return false }
            return PQstatus(pointer) == CONNECTION_OK
        }
    }

    // MARK: - Locked, blocking implementations

    func executeLocked(_ query: PQQuery) throws -> PQRows {
        if statementCacheCapacity > 0 && query.isPrepared {
            do {
                return try executePreparedLocked(query)
            } catch let error as PQError where error.sqlState == "26000" {
                // The prepared statement vanished (DISCARD ALL, a pooler); forget the cache and run it directly.
                statementCache.removeAll()
            }
        }
        let result = try withParameterPointers(query) { types, values, lengths, formats in
            PQexecParams(pointer, query.sql, Int32(query.parameters.count), types, values, lengths, formats, 0)
        }
        return PQRows(handle: try checkedResult(result, queryName: query.name))
    }

    private func executePreparedLocked(_ query: PQQuery) throws -> PQRows {
        var key = query.sql
        for parameter in query.parameters {
            key += "\u{0}\(parameter.typeOID)/\(parameter.format.rawValue)"
        }
        let statementName: String
        if let cached = statementCache[key] {
            statementName = cached
        } else {
            if statementCache.count >= statementCacheCapacity {
                _ = try simpleQueryLocked("DEALLOCATE ALL", name: "DEALLOCATE ALL")
                statementCache.removeAll()
            }
            nextStatementNumber += 1
            let name = "hs_\(nextStatementNumber)"
            let types = query.parameters.map { Oid($0.typeOID) }
            let prepared = types.withUnsafeBufferPointer { typePointer in
                PQprepare(pointer, name, query.sql, Int32(types.count), typePointer.baseAddress)
            }
            let handle = try checkedResult(prepared, queryName: query.name)
            _ = handle
            statementCache[key] = name
            statementName = name
        }
        let result = try withParameterPointers(query) { _, values, lengths, formats in
            PQexecPrepared(pointer, statementName, Int32(query.parameters.count), values, lengths, formats, 0)
        }
        do {
            return PQRows(handle: try checkedResult(result, queryName: query.name))
        } catch let error as PQError where error.sqlState == "0A000" {
            // "cached plan must not change result type" after a schema change: prepare it again next time.
            statementCache[key] = nil
            throw error
        }
    }

    @discardableResult
    func simpleQueryLocked(_ sql: String, name: String) throws -> PQRows {
        PQRows(handle: try checkedResult(PQexec(pointer, sql), queryName: name))
    }

    private func copyInLocked(_ query: PQQuery, _ produce: @Sendable (inout PQCopyWriter) throws -> Void) throws -> Int {
        guard let start = PQexec(pointer, query.sql) else {
            throw connectionError(queryName: query.name)
        }
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            _ = try checkedResult(start, queryName: query.name)
            markBroken()
            throw PQError(code: .protocolViolation, message: "the statement did not start COPY FROM STDIN", queryName: query.name)
        }
        PQclear(start)
        let pointer = self.pointer
        var writer = PQCopyWriter { chunk in
            let sent = chunk.withUnsafeBytes { bytes in
                PQputCopyData(pointer, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
            }
            guard sent == 1 else {
                throw PQError(code: .copyFailed, message: PQConnection.lastErrorMessage(pointer), queryName: query.name)
            }
        }
        do {
            try produce(&writer)
            try writer.flush()
        } catch {
            _ = PQputCopyEnd(pointer, "COPY aborted by the client")
            drainResultsLocked()
            if PQstatus(pointer) != CONNECTION_OK { markBroken() }
            throw error
        }
        guard PQputCopyEnd(pointer, nil) == 1 else {
            throw connectionError(queryName: query.name)
        }
        var copied = 0
        var firstError: (any Error)?
        while let result = PQgetResult(pointer) {
            do {
                let handle = try checkedResult(result, queryName: query.name)
                copied = PQRows(handle: handle).affectedRows
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return copied
    }

    private func drainResultsLocked() {
        while let result = PQgetResult(pointer) { PQclear(result) }
    }

    // MARK: - Results and errors

    /// Takes ownership of `result`, and returns it if it succeeded or throws the error it carries.
    private func checkedResult(_ result: OpaquePointer?, queryName: String) throws -> PQResultHandle {
        guard let result else { throw connectionError(queryName: queryName) }
        let status = PQresultStatus(result)
        switch status {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PQResultHandle(result)
        case PGRES_COPY_IN, PGRES_COPY_OUT, PGRES_COPY_BOTH:
            PQclear(result)
            markBroken()
            throw PQError(code: .protocolViolation, message: "COPY must be run with copyIn(_:_:)", queryName: queryName)
        default:
            let error = serverError(result, queryName: queryName)
            PQclear(result)
            throw error
        }
    }

    /// Reads the error fields of a failed result. A failure that left the connection unusable is `connectionLost`.
    private func serverError(_ result: OpaquePointer, queryName: String) -> PQError {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue!)).map { String(cString: $0) }
        }
        let sqlState = field("C")
        let message = field("M") ?? Self.lastErrorMessage(pointer)
        let lost = PQstatus(pointer) != CONNECTION_OK
        if lost { markBroken() }
        let code: PQError.Code
        if lost {
            code = .connectionLost
        } else if sqlState == "57014" {
            // Canceled: by this client when the awaiting task was cancelled, else by the server (statement_timeout).
            code = wasCanceled ? .queryCanceled : .statementTimeout
        } else {
            code = .server
        }
        return PQError(code: code, message: message, sqlState: sqlState, detail: field("D"), hint: field("H"), queryName: queryName)
    }

    private func connectionError(queryName: String) -> PQError {
        let lost = PQstatus(pointer) != CONNECTION_OK
        if lost { markBroken() }
        return PQError(code: lost ? .connectionLost : .server, message: Self.lastErrorMessage(pointer), queryName: queryName)
    }

    private func markBroken() {
        flags.withLockedValue { $0.isBroken = true }
    }

    /// Marks the connection to be closed when it returns to the pool: its session state is not what the pool promises.
    func retire() {
        markBroken()
    }

    static func lastErrorMessage(_ pointer: OpaquePointer) -> String {
        guard let message = PQerrorMessage(pointer) else { return "" }
        return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Lays all parameter values out in one buffer (text values NUL-terminated, as libpq requires) and passes the
    /// four parallel arrays libpq expects.
    private func withParameterPointers<T>(
        _ query: PQQuery,
        _ body: (
            UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?
        ) throws -> T
    ) throws -> T {
        let parameters = query.parameters
        if parameters.isEmpty { return try body(nil, nil, nil, nil) }
        var total = 0
        for (index, parameter) in parameters.enumerated() {
            guard let bytes = parameter.bytes else { continue }
            if parameter.format == .text, bytes.contains(0) {
                throw PQError(
                    code: .server, message: "parameter $\(index + 1) contains a NUL byte, which PostgreSQL text cannot store",
                    sqlState: "22021", queryName: query.name)
            }
            total += bytes.count + 1
        }
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(total, 1), alignment: 1)
        defer { storage.deallocate() }
        var types = [Oid](repeating: 0, count: parameters.count)
        var values = [UnsafePointer<CChar>?](repeating: nil, count: parameters.count)
        var lengths = [Int32](repeating: 0, count: parameters.count)
        var formats = [Int32](repeating: 0, count: parameters.count)
        var offset = 0
        for (index, parameter) in parameters.enumerated() {
            types[index] = Oid(parameter.typeOID)
            formats[index] = parameter.format.rawValue
            guard let bytes = parameter.bytes else { continue }
            let destination = storage.baseAddress! + offset
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { destination.copyMemory(from: base, byteCount: source.count) }
            }
            destination.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
            values[index] = UnsafePointer(destination.assumingMemoryBound(to: CChar.self))
            lengths[index] = Int32(bytes.count)
            offset += bytes.count + 1
        }
        return try body(types, values, lengths, formats)
    }
}

/// Opens a libpq connection (blocking) and returns it once it is usable, or throws `connectionFailed`.
func openLibPQConnection(_ configuration: PQClient.Configuration) throws -> OpaquePointer {
    // Keywords before "dbname" are defaults the connection string can override; keywords after it are forced.
    let defaults = configuration.libPQDefaults
    var keywords = defaults.map(\.keyword)
    var values = defaults.map(\.value)
    keywords.append("dbname")
    values.append(configuration.connectionString)
    keywords.append("client_encoding")
    values.append("UTF8")

    let pointer: OpaquePointer? = withCStringArray(keywords) { keywordPointers in
        withCStringArray(values) { valuePointers in
            PQconnectdbParams(keywordPointers, valuePointers, 1)
        }
    }
    guard let pointer else {
        throw PQError(code: .connectionFailed, message: "libpq could not allocate a connection (out of memory)")
    }
    guard PQstatus(pointer) == CONNECTION_OK else {
        let message = PQConnection.lastErrorMessage(pointer)
        PQfinish(pointer)
        throw PQError(code: .connectionFailed, message: message.isEmpty ? "could not connect to the server" : message)
    }
    return pointer
}

/// Carries the logger into libpq's notice callback, and remembers a FATAL message (the server announcing that it closes
/// the connection, e.g. after `pg_terminate_backend`) that arrived while the connection was idle.
final class NoticeBox {
    let logger: Logger
    /// Set by the callback, which runs on the thread holding the connection's lock; read under the same lock.
    var sawFatal = false
    init(logger: Logger) { self.logger = logger }
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStringArray<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicates = strings.map { strdup($0) }
    defer { duplicates.forEach { free($0) } }
    var pointers: [UnsafePointer<CChar>?] = duplicates.map { UnsafePointer($0) }
    pointers.append(nil)
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
