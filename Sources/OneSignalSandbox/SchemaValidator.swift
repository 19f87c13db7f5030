import Domain

/// Checks a JSON value against a `Schema` and names the first member that does not fit, by its path
/// (`include_aliases.external_id[0]`).
enum SchemaValidator {
    /// Why a value does not match: the path of the offending member and what is wrong with it.
    struct Failure: Error, Equatable, CustomStringConvertible {
        let path: String
        let problem: String

        var description: String {
            path.isEmpty ? "the body \(problem)" : "\(path) \(problem)"
        }
    }

    /// Throws the first mismatch of `value` against `schema`; `path` is the member's path so far.
    static func validate(_ value: JSONValue, against schema: Schema, path: String = "") throws(Failure) {
        switch schema {
        case .any:
            return
        case .anyOf(let alternatives):
            var firstFailure: Failure?
            for alternative in alternatives {
                do {
                    try validate(value, against: alternative, path: path)
                    return
                } catch {
                    firstFailure = firstFailure ?? error
                }
            }
            if let firstFailure { throw firstFailure }
        case .string(let enumeration, let maxLength, let nullable):
            if value == .null, nullable { return }
            guard case .string(let text) = value else { throw mismatch(value, expected: "a string", path: path) }
            if let enumeration, !enumeration.contains(text) {
                throw Failure(path: path, problem: "must be one of \(enumeration.joined(separator: ", ")), not \"\(text)\"")
            }
            if let maxLength, text.count > maxLength {
                throw Failure(path: path, problem: "must be at most \(maxLength) characters long")
            }
        case .integer(let enumeration, let nullable):
            if value == .null, nullable { return }
            let number: Int64
            switch value {
            case .int(let whole): number = whole
            case .double(let real) where real.rounded() == real && abs(real) < 9e15: number = Int64(real)
            default: throw mismatch(value, expected: "an integer", path: path)
            }
            if let enumeration, !enumeration.contains(number) {
                throw Failure(
                    path: path, problem: "must be one of \(enumeration.map(String.init).joined(separator: ", ")), not \(number)")
            }
        case .number(let nullable):
            if value == .null, nullable { return }
            switch value {
            case .int, .double: return
            default: throw mismatch(value, expected: "a number", path: path)
            }
        case .boolean(let nullable):
            if value == .null, nullable { return }
            guard case .bool = value else { throw mismatch(value, expected: "a boolean", path: path) }
        case .array(let items, let nullable):
            if value == .null, nullable { return }
            guard case .array(let elements) = value else { throw mismatch(value, expected: "an array", path: path) }
            for (index, element) in elements.enumerated() {
                try validate(element, against: items, path: "\(path)[\(index)]")
            }
        case .object(let properties, let required, let additional, let minimum, let maximum, let nullable):
            if value == .null, nullable { return }
            guard case .object(let members) = value else { throw mismatch(value, expected: "an object", path: path) }
            for name in required where members[name] == nil {
                throw Failure(path: join(path, name), problem: "is required")
            }
            if let minimum, members.count < minimum {
                throw Failure(path: path, problem: "must have at least \(minimum) member\(minimum == 1 ? "" : "s")")
            }
            if let maximum, members.count > maximum {
                throw Failure(path: path, problem: "must have at most \(maximum) member\(maximum == 1 ? "" : "s")")
            }
            for name in members.keys.sorted() {
                guard let member = members[name] else { continue }
                if let known = properties[name] {
                    try validate(member, against: known, path: join(path, name))
                } else if let additional {
                    try validate(member, against: additional, path: join(path, name))
                }
            }
        }
    }

    /// The JSON type name of `value`, for messages.
    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .int, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private static func mismatch(_ value: JSONValue, expected: String, path: String) -> Failure {
        Failure(path: path, problem: "must be \(expected), not \(typeName(value))")
    }

    private static func join(_ path: String, _ member: String) -> String {
        path.isEmpty ? member : "\(path).\(member)"
    }
}
