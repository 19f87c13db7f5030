extension PQConnection {
    /// Runs `body` with the session's `statement_timeout` at `timeout` (`.zero`: no limit), then puts the previous value
    /// back, for work known to be long that is not one transaction (a rebuild's `COPY`, a migration's lock wait).
    ///
    /// When the previous value cannot be put back (the connection broke, or `body` left a failed transaction), the
    /// connection is retired instead of returning to the pool with the wrong setting.
    @discardableResult
    public func withStatementTimeout<T>(
        isolation: isolated (any Actor)? = #isolation, _ timeout: Duration, _ body: (PQConnection) async throws -> T
    ) async throws -> T {
        let previous = try await query("SELECT current_setting('statement_timeout')", name: "statement_timeout.read")[0]
            .decode(String.self, at: 0)
        try await setStatementTimeout(String(max(0, timeout.wholeMillisecondsRoundedUp)))
        let result: T
        do {
            result = try await body(self)
        } catch {
            await restoreStatementTimeout(previous)
            throw error
        }
        await restoreStatementTimeout(previous)
        return result
    }

    private func setStatementTimeout(_ value: String) async throws {
        try await execute("SELECT set_config('statement_timeout', \(value), false)", name: "statement_timeout.set")
    }

    private func restoreStatementTimeout(_ value: String) async {
        do {
            try await setStatementTimeout(value)
        } catch {
            retire()
        }
    }
}

extension PQClient {
    /// The `statement_timeout` that `withConnection` and `withTransaction` give the connections they lend in this task
    /// (and its child tasks), set by `withStatementTimeout(_:_:)`.
    @TaskLocal static var statementTimeoutOverride: Duration?

    /// Runs `body` with `statement_timeout` at `timeout` (`.zero`: no limit) on every connection any `PQClient` lends
    /// within it (child tasks included), for long operations such as a projection rebuild or a migration. Each
    /// connection gets its previous value back when it returns to the pool.
    @discardableResult
    public static func withStatementTimeout<T>(
        isolation: isolated (any Actor)? = #isolation, _ timeout: Duration, _ body: () async throws -> T
    ) async throws -> T {
        try await $statementTimeoutOverride.withValue(timeout, operation: body, isolation: isolation)
    }
}
