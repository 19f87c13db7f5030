/// How a transaction starts.
public struct PQTransactionOptions: Sendable {
    /// The transaction's isolation level.
    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    /// Defaults to the server's default (`READ COMMITTED` unless configured otherwise).
    public var isolationLevel: IsolationLevel?
    /// A read-only transaction. Defaults to `false`.
    public var isReadOnly: Bool
    /// `statement_timeout` for this transaction's statements (`SET LOCAL`), for work known to be long; `.zero` means
    /// no limit. Defaults to `nil`: the session's (`PQClient.Configuration.statementTimeout`).
    public var statementTimeout: Duration?

    /// Options; the defaults start a plain `BEGIN`.
    public init(isolationLevel: IsolationLevel? = nil, isReadOnly: Bool = false, statementTimeout: Duration? = nil) {
        self.isolationLevel = isolationLevel
        self.isReadOnly = isReadOnly
        self.statementTimeout = statementTimeout
    }

    var beginStatement: String {
        var statement = "BEGIN"
        if let isolationLevel { statement += " ISOLATION LEVEL \(isolationLevel.rawValue)" }
        if isReadOnly { statement += " READ ONLY" }
        if let statementTimeout {
            statement += "; SET LOCAL statement_timeout = \(max(0, statementTimeout.wholeMillisecondsRoundedUp))"
        }
        return statement
    }
}

extension PQConnection {
    /// Runs `body` in a transaction on this connection: committed when `body` returns, rolled back when it throws.
    ///
    /// A `COMMIT` that the server turns into a rollback (because a statement failed and the error was caught inside
    /// `body`) throws. If the connection is lost during `COMMIT`, the outcome is unknown and the error says so:
    /// design the work to be safe to repeat (idempotency keys, upserts).
    @discardableResult
    public func withTransaction<T>(
        isolation: isolated (any Actor)? = #isolation, _ options: PQTransactionOptions = .init(),
        _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        try await simpleQuery(unsafeSQL: options.beginStatement, name: "BEGIN")
        let result: T
        do {
            result = try await body(self)
        } catch {
            if !isBroken {
                try? await simpleQuery(unsafeSQL: "ROLLBACK", name: "ROLLBACK")
            }
            throw error
        }
        let tag: String
        do {
            tag = try await run("COMMIT") { connection in try connection.simpleQueryLocked("COMMIT", name: "COMMIT").commandTag }
        } catch var error as PQError where error.code == .connectionLost {
            error.message = "the connection was lost during COMMIT, so the transaction may or may not have committed: "
                + error.message
            throw error
        }
        guard tag == "COMMIT" else {
            throw PQError(
                code: .server,
                message: "the transaction was rolled back instead of committed, because a statement in it failed",
                sqlState: "25P02", queryName: "COMMIT")
        }
        return result
    }
}
