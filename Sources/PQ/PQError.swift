/// An error from the PostgreSQL client.
///
/// `description` is deliberately terse: it names the error code, the SQLSTATE and the query's name, but never the
/// server's message, detail or the query's parameter values, which may contain personal data. Use `debugDescription`
/// (or the individual properties) where the full text is safe to show, for example on an operator's terminal.
public struct PQError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The kind of failure. New codes may be added in minor releases; switch with a `default`.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable, Hashable {
            case connectionFailed, connectionLost, server, poolTimeout, poolClosed, queryCanceled, statementTimeout
            case unexpectedNull, decoding, copyFailed, protocolViolation
        }
        let base: Base
        private init(_ base: Base) { self.base = base }

        /// A connection could not be established (bad address, authentication, TLS, server not ready).
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke (server restart, network failure, `pg_terminate_backend`). The pool
        /// replaces the connection; the statement may or may not have taken effect if it was a `COMMIT`.
        public static let connectionLost = Code(.connectionLost)
        /// The server reported an error; see `sqlState`.
        public static let server = Code(.server)
        /// No connection became free within the pool's wait timeout.
        public static let poolTimeout = Code(.poolTimeout)
        /// The pool was shut down.
        public static let poolClosed = Code(.poolClosed)
        /// The statement was canceled because the task awaiting it was cancelled.
        public static let queryCanceled = Code(.queryCanceled)
        /// The server canceled the statement (SQLSTATE `57014`) without being asked by this client: it ran past
        /// `statement_timeout`, or an operator canceled it (`pg_cancel_backend`). The statement took no effect; running it
        /// again can succeed, so it is retryable.
        public static let statementTimeout = Code(.statementTimeout)
        /// A column that was decoded as non-optional was `NULL`.
        public static let unexpectedNull = Code(.unexpectedNull)
        /// A value could not be decoded into the requested Swift type.
        public static let decoding = Code(.decoding)
        /// `COPY … FROM STDIN` failed on the client side.
        public static let copyFailed = Code(.copyFailed)
        /// The server answered in a way the client did not expect (for example rows from a command).
        public static let protocolViolation = Code(.protocolViolation)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// The SQLSTATE the server reported (for example `23505` for a unique violation), if any.
    public var sqlState: String?
    /// The server's primary message, or the client's explanation.
    public var message: String
    /// The server's detail field. May contain data values: do not log it where personal data must not go.
    public var detail: String?
    /// The server's hint field.
    public var hint: String?
    /// The name of the query that failed (`PQQuery.name`), never its parameter values.
    public var queryName: String?
    /// The error that caused this one, if any.
    public var underlying: (any Error)?
    /// Where the failing call was made.
    public var file: String
    /// Where the failing call was made.
    public var line: Int

    /// An error of `code`; `file` and `line` default to the caller's.
    public init(
        code: Code, message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        queryName: String? = nil, underlying: (any Error)? = nil, file: String = #fileID, line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.queryName = queryName
        self.underlying = underlying
        self.file = file
        self.line = line
    }

    /// Whether running the same work again (on a new connection or after a pause) can succeed: lost connections
    /// (including a dead network noticed by TCP keepalives or `tcp_user_timeout`), pool timeouts, statements the server
    /// canceled (`statement_timeout`), serialization failures, deadlocks, and servers that are starting up or shutting
    /// down.
    public var isRetryable: Bool {
        switch code.base {
        case .connectionLost, .connectionFailed, .poolTimeout, .statementTimeout:
            return true
        case .server:
            guard let sqlState else { return false }
            return Self.retryableSQLStates.contains(sqlState) || sqlState.hasPrefix("08")
        default:
            return false
        }
    }

    /// SQLSTATEs after which a retry may succeed.
    static let retryableSQLStates: Set<String> = [
        "40001",  // serialization_failure
        "40P01",  // deadlock_detected
        "55P03",  // lock_not_available
        "57P01",  // admin_shutdown
        "57P02",  // crash_shutdown
        "57P03",  // cannot_connect_now
        "53300",  // too_many_connections
        "25006",  // read_only_sql_transaction (a failover in progress)
    ]

    /// A terse summary without server messages or values; safe for logs.
    public var description: String {
        var parts = ["code: \(code)"]
        if let sqlState { parts.append("sqlState: \(sqlState)") }
        if let queryName { parts.append("query: \(queryName)") }
        return "PQError(\(parts.joined(separator: ", ")))"
    }

    /// Every field, including the server's message, detail and hint. Never contains parameter values, but the
    /// server's detail can quote data (for example the key of a unique violation).
    public var debugDescription: String {
        var text = "PQError(code: \(code)"
        if let sqlState { text += ", sqlState: \(sqlState)" }
        if let queryName { text += ", query: \(queryName)" }
        text += ", message: \(message)"
        if let detail { text += ", detail: \(detail)" }
        if let hint { text += ", hint: \(hint)" }
        if let underlying { text += ", underlying: \(String(reflecting: underlying))" }
        text += ", at: \(file):\(line))"
        return text
    }
}
