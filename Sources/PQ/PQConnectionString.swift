import CLibPQ
import Foundation

/// Helpers for libpq connection strings.
public enum PQConnectionString {
    /// Returns a `key='value'` connection string equal to `connectionString` but for another database, keeping every
    /// other setting (host list, TLS mode, user, password, options).
    public static func replacingDatabase(in connectionString: String, with database: String) throws -> String {
        var options = try parse(connectionString)
        options.removeAll { $0.key == "dbname" }
        options.append((key: "dbname", value: database))
        return options.map { "\($0.key)=\(quote($0.value))" }.joined(separator: " ")
    }

    /// The settings a connection string spells out (libpq's `PQconninfoParse`), in libpq's order.
    public static func parse(_ connectionString: String) throws -> [(key: String, value: String)] {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "invalid connection string"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PQError(code: .connectionFailed, message: "invalid connection string: " + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        defer { PQconninfoFree(options) }
        var result: [(key: String, value: String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                result.append((key: String(cString: keyword), value: String(cString: value)))
            }
            option += 1
        }
        return result
    }

    /// Quotes a value for a `key='value'` connection string.
    static func quote(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
