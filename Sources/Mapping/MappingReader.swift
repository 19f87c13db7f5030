import Domain
import Foundation
import Ingestion
import Yams

// MARK: - YAML tree

/// A YAML node reduced to what the mapping needs: scalars with their resolved type, mappings in file order, lists,
/// and the line each came from.
struct YAMLNode: Sendable {
    enum Kind: Sendable {
        case scalar(YAMLScalar)
        case mapping([YAMLEntry])
        case sequence([YAMLNode])
    }

    var kind: Kind
    var line: Int?
}

/// A scalar's text and the type YAML 1.1 resolves it to (`yes` and `off` are booleans, `~` and nothing are null).
struct YAMLScalar: Sendable {
    enum Resolved: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string
    }

    var text: String
    var resolved: Resolved
}

/// One `key: value` pair of a mapping.
struct YAMLEntry: Sendable {
    var key: String
    var line: Int?
    var value: YAMLNode
}

enum YAMLDocument {
    /// Parses the first document of `text`; `nil` when it holds nothing (empty, or only comments).
    static func parse(_ text: String, file: String) throws(MappingError) -> YAMLNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error, file: file)
        } catch {
            throw MappingError(file: file, path: "", message: "not valid YAML: \(error)")
        }
        guard let root else { return nil }
        return try convert(root, path: "", file: file)
    }

    private static func syntaxError(_ error: YamlError, file: String) -> MappingError {
        func text(_ context: YamlError.Context?, _ problem: String) -> String {
            guard let context else { return problem }
            return "\(problem) (\(context.text))"
        }
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return MappingError(
                file: file, path: "",
                message: "not valid YAML: \(text(context, problem)) at column \(mark.column); check the indentation and quoting",
                line: mark.line)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return MappingError(
                file: file, path: "",
                message: "the key \(keys) appears twice in one mapping (first on this line); keep one", line: context.mark.line)
        case .reader(let problem, _, _, _):
            return MappingError(file: file, path: "", message: "cannot read the file as YAML: \(problem); save it as UTF-8")
        default:
            return MappingError(file: file, path: "", message: "not valid YAML: \(error)")
        }
    }

    private static func convert(_ node: Node, path: String, file: String) throws(MappingError) -> YAMLNode {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return YAMLNode(kind: .scalar(YAMLScalar(text: scalar.string, resolved: resolve(node))), line: line)
        case .mapping(let mapping):
            var entries: [YAMLEntry] = []
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw MappingError(
                        file: file, path: path, message: "a key must be plain text, not a list or a mapping", line: key.mark?.line)
                }
                let name = keyScalar.string
                let childPath = Path.child(path, name)
                if key.tag.description == Tag.Name.merge.rawValue {
                    throw MappingError(
                        file: file, path: path, message: "YAML merge keys (<<) are not supported; write the keys out",
                        line: key.mark?.line)
                }
                entries.append(
                    YAMLEntry(key: name, line: key.mark?.line, value: try convert(value, path: childPath, file: file)))
            }
            return YAMLNode(kind: .mapping(entries), line: line)
        case .sequence(let sequence):
            var items: [YAMLNode] = []
            for (index, item) in sequence.enumerated() {
                items.append(try convert(item, path: Path.index(path, index), file: file))
            }
            return YAMLNode(kind: .sequence(items), line: line)
        case .alias:
            throw MappingError(file: file, path: path, message: "YAML aliases are not supported here; write the value out", line: line)
        }
    }

    private static func resolve(_ node: Node) -> YAMLScalar.Resolved {
        switch Tag.Name(rawValue: node.tag.description) {
        case Tag.Name.null: return .null
        case Tag.Name.bool: return node.bool.map(YAMLScalar.Resolved.bool) ?? .string
        case Tag.Name.int: return node.int.map(YAMLScalar.Resolved.int) ?? .string
        case Tag.Name.float: return node.float.map(YAMLScalar.Resolved.double) ?? .string
        default: return .string
        }
    }
}

// MARK: - Paths

/// Dotted key paths for error messages: `contacts.properties.firstName`, `custom_objects[0].name`.
enum Path {
    static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    static func index(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }
}

// MARK: - Reading values

/// A value in the mapping file at a known path, with typed accessors that throw `MappingError`s saying what to write.
struct MappingValue {
    let node: YAMLNode
    let path: String
    let file: String

    func error(_ message: String) -> MappingError {
        MappingError(file: file, path: path, message: message, line: node.line)
    }

    var isNull: Bool {
        if case .scalar(let scalar) = node.kind, scalar.resolved == .null { return true }
        return false
    }

    /// What the value is, for "expected …, found …" messages.
    var kindDescription: String {
        switch node.kind {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            switch scalar.resolved {
            case .null: return "nothing"
            case .bool(let value): return "the boolean \(value)"
            case .int, .double: return "the number \(scalar.text)"
            case .string: return "'\(scalar.text)'"
            }
        }
    }

    /// A text value. Plain scalars count as text whatever YAML would make of them (`on`, `123`), so trait and property
    /// names need no quotes.
    func string(_ hint: String = "a text value") throws(MappingError) -> String {
        guard case .scalar(let scalar) = node.kind, scalar.resolved != .null else {
            throw error("expected \(hint), found \(kindDescription)")
        }
        return scalar.text
    }

    /// A non-blank text value.
    func nonBlankString(_ hint: String = "a text value") throws(MappingError) -> String {
        let value = try string(hint)
        guard !value.trimmingCharacters(in: .whitespaces).isEmpty else { throw error("expected \(hint), found blank text") }
        return value
    }

    func bool() throws(MappingError) -> Bool {
        guard case .scalar(let scalar) = node.kind, case .bool(let value) = scalar.resolved else {
            throw error("expected true or false, found \(kindDescription)")
        }
        return value
    }

    func int() throws(MappingError) -> Int {
        guard case .scalar(let scalar) = node.kind, case .int(let value) = scalar.resolved else {
            throw error("expected a whole number, found \(kindDescription)")
        }
        return value
    }

    /// One of `choices`, with a "did you mean" when the value is close to one.
    func choice(_ choices: [String]) throws(MappingError) -> String {
        let list = choices.joined(separator: ", ")
        guard case .scalar(let scalar) = node.kind, scalar.resolved != .null else {
            throw error("expected one of \(list), found \(kindDescription)")
        }
        if choices.contains(scalar.text) { return scalar.text }
        if let suggestion = Suggestion.closest(to: scalar.text, among: choices) {
            throw error("unknown value '\(scalar.text)'; did you mean '\(suggestion)'? (one of \(list))")
        }
        throw error("unknown value '\(scalar.text)'; use one of \(list)")
    }

    /// A mapping whose keys must be among `keys`; an unknown key is an error naming the closest allowed key.
    func object(keys: [String], hint: String? = nil) throws(MappingError) -> MappingObject {
        guard case .mapping(let entries) = node.kind else {
            throw error("expected \(hint ?? "a mapping with the keys \(keys.joined(separator: ", "))"), found \(kindDescription)")
        }
        var values: [String: MappingValue] = [:]
        for entry in entries {
            let childPath = Path.child(path, entry.key)
            guard keys.contains(entry.key) else {
                let message: String
                if let suggestion = Suggestion.closest(to: entry.key, among: keys) {
                    message = "unknown key '\(entry.key)'; did you mean '\(suggestion)'?"
                } else {
                    message = "unknown key '\(entry.key)'; the keys here are \(keys.joined(separator: ", "))"
                }
                throw MappingError(file: file, path: childPath, message: message, line: entry.line)
            }
            values[entry.key] = MappingValue(node: entry.value, path: childPath, file: file)
        }
        return MappingObject(value: self, values: values)
    }

    /// A mapping with free-form keys (trait names, event names), in file order.
    func entries(_ hint: String) throws(MappingError) -> [(key: String, value: MappingValue)] {
        guard case .mapping(let entries) = node.kind else { throw error("expected \(hint), found \(kindDescription)") }
        return entries.map { (key: $0.key, value: MappingValue(node: $0.value, path: Path.child(path, $0.key), file: file)) }
    }

    func list(_ hint: String) throws(MappingError) -> [MappingValue] {
        guard case .sequence(let items) = node.kind else { throw error("expected \(hint), found \(kindDescription)") }
        return items.enumerated().map { MappingValue(node: $1, path: Path.index(path, $0), file: file) }
    }

    /// A list of texts; a single text counts as a list of one.
    func stringList(_ hint: String) throws(MappingError) -> [String] {
        if case .scalar = node.kind, !isNull { return [try nonBlankString(hint)] }
        var result: [String] = []
        for item in try list("a list of \(hint)") { result.append(try item.nonBlankString(hint)) }
        return result
    }

    /// The value as JSON, with YAML's scalar types (`10` is a number, `"10"` text, `true` a boolean).
    func json() -> JSONValue {
        switch node.kind {
        case .scalar(let scalar):
            switch scalar.resolved {
            case .null: return .null
            case .bool(let value): return .bool(value)
            case .int(let value): return .int(Int64(value))
            case .double(let value): return .double(value)
            case .string: return .string(scalar.text)
            }
        case .sequence(let items):
            return .array(items.enumerated().map { MappingValue(node: $1, path: Path.index(path, $0), file: file).json() })
        case .mapping(let entries):
            var object: [String: JSONValue] = [:]
            for entry in entries { object[entry.key] = MappingValue(node: entry.value, path: path, file: file).json() }
            return .object(object)
        }
    }
}

/// A mapping read with `MappingValue.object(keys:)`.
struct MappingObject {
    let value: MappingValue
    let values: [String: MappingValue]

    /// The value under `key`; `nil` when the key is absent or has no value (`key:` or `key: null`), which means "the default".
    subscript(key: String) -> MappingValue? {
        guard let found = values[key], !found.isNull else { return nil }
        return found
    }

    /// The value under `key`, or an error saying it is needed.
    func required(_ key: String, _ hint: String) throws(MappingError) -> MappingValue {
        guard let found = self[key] else { throw value.error("missing '\(key)': \(hint)") }
        return found
    }
}

// MARK: - Suggestions

enum Suggestion {
    /// The candidate closest to `word` when it is plausibly a typo of it: same letters ignoring case and `_`/`-`, or
    /// an edit distance of at most a third of the word's length (at least 1, at most 3).
    static func closest(to word: String, among candidates: [String]) -> String? {
        let normalized = normalize(word)
        if let same = candidates.first(where: { normalize($0) == normalized }) { return same }
        let limit = min(3, max(1, word.count / 3))
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(normalized, normalize(candidate))
            if distance <= limit, distance < (best?.distance ?? .max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    private static func normalize(_ text: String) -> [Character] {
        Array(text.lowercased().filter { $0 != "_" && $0 != "-" && $0 != " " })
    }

    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
