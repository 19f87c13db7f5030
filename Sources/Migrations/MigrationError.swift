/// Why migrating (or checking the schema) failed, with what to do about it.
public struct MigrationError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Base: String, Sendable { case invalidFolder, modifiedMigration, behind, unsupportedServer, failed }
        let base: Base
        init(_ base: Base) { self.base = base }
        /// The migrations folder is missing or holds a badly named file.
        public static let invalidFolder = Code(.invalidFolder)
        /// An applied migration's file was edited afterwards (its checksum differs).
        public static let modifiedMigration = Code(.modifiedMigration)
        /// The database lacks migrations this build needs.
        public static let behind = Code(.behind)
        /// The server is too old.
        public static let unsupportedServer = Code(.unsupportedServer)
        /// A migration's SQL failed; it was rolled back.
        public static let failed = Code(.failed)
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong and what to do.
    public var message: String
    /// The underlying error (for `failed`: the `PQError`).
    public var underlying: (any Error)?

    init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String { message }
}
