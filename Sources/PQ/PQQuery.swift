/// A SQL statement with its parameters, built so that values can only ever travel as bind parameters.
///
/// Interpolating a value appends a placeholder (`$1`, `$2`, …) and binds the value; the SQL text never contains it:
///
/// ```swift
/// let rows = try await client.query("SELECT id FROM contacts WHERE email = \(email) AND age > \(minimumAge)")
/// ```
///
/// Identifiers (schema or table names chosen at run time) are interpolated with `\(identifier: name)`, which quotes
/// them. Raw text needs the explicitly named `init(unsafeSQL:parameters:name:)`.
public struct PQQuery: Sendable, ExpressibleByStringInterpolation {
    /// The SQL text with `$n` placeholders.
    public var sql: String
    /// The bind parameters, in placeholder order.
    public var parameters: [PQParameter]
    /// A short name for errors, logs and metrics (defaults to the start of the SQL text, which holds no values).
    public var name: String
    /// Whether the connection keeps the statement prepared (the default), or plans it afresh for its values each time.
    ///
    /// PostgreSQL switches a prepared statement to a generic plan after five executions when it estimates it no
    /// worse; for a statement whose best plan depends on its values and on fast-changing tables, that plan can be
    /// far worse. `planEachTime()` sends it unnamed (`PQexecParams`): one round trip, a plan for these values.
    public var isPrepared = true

    /// Creates a query from trusted SQL text and explicit parameters.
    ///
    /// > Warning: never build `sql` from untrusted input; interpolate values instead.
    public init(unsafeSQL sql: String, parameters: [PQParameter] = [], name: String? = nil) {
        self.sql = sql
        self.parameters = parameters
        self.name = name ?? Self.defaultName(for: sql)
    }

    /// A query of constant SQL text and no parameters.
    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    /// A query whose interpolated values are bound as parameters.
    public init(stringInterpolation: StringInterpolation) {
        self.init(unsafeSQL: stringInterpolation.sql, parameters: stringInterpolation.parameters)
    }

    /// Returns the same query, planned for its values at each execution instead of kept prepared (see `isPrepared`).
    public func planEachTime() -> PQQuery {
        var copy = self
        copy.isPrepared = false
        return copy
    }

    /// Returns the same query with another name, used in errors, logs and metrics.
    public func named(_ name: String) -> PQQuery {
        var copy = self
        copy.name = name
        return copy
    }

    /// The first words of the statement, whitespace collapsed: e.g. `INSERT INTO events (stream, type…`.
    static func defaultName(for sql: String) -> String {
        let collapsed = sql.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
        return collapsed.count > 48 ? String(collapsed.prefix(48)) + "…" : collapsed
    }

    /// Builds SQL text and parameters from a string interpolation.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var parameters: [PQParameter]

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            parameters = []
            parameters.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value and appends its placeholder.
        public mutating func appendInterpolation<Value: PQEncodable>(_ value: Value) {
            parameters.append(value.pqParameter)
            sql += "$\(parameters.count)"
        }

        /// Binds an optional value (`nil` becomes SQL `NULL`) and appends its placeholder.
        public mutating func appendInterpolation<Value: PQEncodable>(_ value: Value?) {
            parameters.append(value?.pqParameter ?? .null)
            sql += "$\(parameters.count)"
        }

        /// Appends trusted SQL text as it is, such as a constant column list.
        ///
        /// > Warning: never pass text that contains untrusted input; interpolate values instead.
        public mutating func appendInterpolation(unsafeRaw sql: String) {
            self.sql += sql
        }

        /// Appends a quoted SQL identifier (a schema, table or column name chosen at run time).
        public mutating func appendInterpolation(identifier: String) {
            sql += PQQuery.quoteIdentifier(identifier)
        }

        /// Appends a constant as a quoted SQL string literal instead of binding it, for a value the planner must see in
        /// the text of a prepared statement: e.g. the predicate of a partial index (a generic plan cannot use one whose
        /// predicate compares with a parameter).
        ///
        /// > Warning: the value becomes part of the statement's text, cache key and default name: use it for constants
        /// > of the program, never for data.
        public mutating func appendInterpolation(literal value: String) {
            sql += PQQuery.quoteLiteral(value)
        }
    }

    /// Quotes a string constant the way PostgreSQL's `quote_literal` does: wrapped in single quotes, inner quotes
    /// doubled, and when it holds a backslash, doubled backslashes in an `E'…'` constant (read the same whatever
    /// `standard_conforming_strings` says).
    ///
    /// - Precondition: `value` holds no NUL character (PostgreSQL's text cannot hold one).
    public static func quoteLiteral(_ value: String) -> String {
        precondition(!value.utf8.contains(0), "a SQL literal cannot hold a NUL character")
        let quoted = value.replacingOccurrences(of: "'", with: "''")
        guard quoted.contains("\\") else { return "'" + quoted + "'" }
        return "E'" + quoted.replacingOccurrences(of: "\\", with: "\\\\") + "'"
    }

    /// Quotes an identifier the way PostgreSQL's `quote_ident` does: wrapped in double quotes, inner quotes doubled.
    public static func quoteIdentifier(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// One bind parameter: its type, wire format and bytes.
public struct PQParameter: Sendable, Hashable {
    /// The wire format of a parameter or result column.
    public enum Format: Int32, Sendable {
        case text = 0
        case binary = 1
    }

    /// The parameter's type OID; `0` lets the server infer it from the statement.
    public var typeOID: UInt32
    /// How `bytes` are encoded.
    public var format: Format
    /// The encoded value; `nil` is SQL `NULL`.
    public var bytes: [UInt8]?

    /// A parameter of already encoded bytes.
    public init(typeOID: UInt32, format: Format, bytes: [UInt8]?) {
        self.typeOID = typeOID
        self.format = format
        self.bytes = bytes
    }

    /// SQL `NULL` of a type the server infers.
    public static let null = PQParameter(typeOID: 0, format: .text, bytes: nil)

    /// A text-format value of the given type.
    public static func text(_ value: String, typeOID: UInt32 = 0) -> PQParameter {
        PQParameter(typeOID: typeOID, format: .text, bytes: Array(value.utf8))
    }
}
