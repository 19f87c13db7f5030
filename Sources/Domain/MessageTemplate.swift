import Foundation

/// A personalized text of a workflow notification: literal text with placeholders naming HubSpot contact properties,
/// `{{ contact.firstname }}`, each optionally with a fallback, `{{ contact.firstname | default: "there" }}`.
///
/// ```swift
/// let greeting = try MessageTemplate(parsing: #"Hi {{ contact.firstname | default: "there" }}!"#)
/// greeting.render(["firstname": "Ada"])   // "Hi Ada!"
/// greeting.render([:])                    // "Hi there!"
/// ```
///
/// The syntax, all of it: `{{`, optional spaces, `contact.` and a property's internal name (letters, digits, `_`, `-`),
/// optionally `| default: "…"` (or `'…'`; the text cannot hold its own quote character), optional spaces, `}}`. A
/// property that is absent, `null` or blank renders as its fallback, or as nothing without one: a missing property is
/// never an error. Anything else between `{{` and `}}` (another variable, another filter, an unclosed `{{`) is a
/// ``SyntaxError``: HubSignal refuses such a message instead of sending it. A lone `}}` is literal text; a literal `{{`
/// cannot be written.
public struct MessageTemplate: Sendable, Hashable {
    /// A piece of the template.
    public enum Part: Sendable, Hashable {
        /// Literal text.
        case text(String)
        /// A contact property's value, or `fallback` when it has none (`nil`: nothing).
        case property(name: String, fallback: String?)
    }

    /// Why a template cannot be read: `message` names the problem and where it is (1-based character position).
    public struct SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The longest template HubSignal reads (characters): HubSpot's text inputs hold far less.
    public static let maximumLength = 65_536

    /// The template's pieces, in order.
    public let parts: [Part]

    /// Reads `source`; throws a ``SyntaxError`` for anything but text and well-formed `{{ contact.… }}` placeholders.
    public init(parsing source: String) throws(SyntaxError) {
        guard source.count <= Self.maximumLength else {
            throw SyntaxError(message: "the text is \(source.count) characters; the limit is \(Self.maximumLength)")
        }
        var parts: [Part] = []
        var literal = ""
        var rest = Substring(source)
        var offset = 0
        while let open = rest.range(of: "{{") {
            literal += rest[..<open.lowerBound]
            let position = offset + rest.distance(from: rest.startIndex, to: open.lowerBound) + 1
            let inside = rest[open.upperBound...]
            guard let close = inside.range(of: "}}") else {
                throw SyntaxError(message: "the {{ at character \(position) is never closed with }}")
            }
            let expression = inside[..<close.lowerBound]
            if expression.contains("{{") {
                throw SyntaxError(message: "the {{ at character \(position) is never closed with }}")
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(try Self.placeholder(expression, at: position))
            offset += rest.distance(from: rest.startIndex, to: close.upperBound)
            rest = inside[close.upperBound...]
        }
        literal += rest
        if !literal.isEmpty { parts.append(.text(literal)) }
        self.parts = parts
    }

    /// The property names the template uses, each once, in order of first use.
    public var propertyNames: [String] {
        var seen = Set<String>()
        return parts.compactMap { part -> String? in
            guard case .property(let name, _) = part, seen.insert(name).inserted else { return nil }
            return name
        }
    }

    /// Whether the template has no placeholder.
    public var isLiteral: Bool { propertyNames.isEmpty }

    /// The text for a contact whose properties are `properties` (internal name → value as HubSpot sent it). An absent
    /// or blank value renders as the placeholder's fallback, or as nothing.
    public func render(_ properties: [String: String]) -> String {
        var text = ""
        for part in parts {
            switch part {
            case .text(let literal): text += literal
            case .property(let name, let fallback):
                if let value = properties[name], !value.allSatisfy(\.isWhitespace) {
                    text += value
                } else {
                    text += fallback ?? ""
                }
            }
        }
        return text
    }

    /// The text values of HubSpot's `object.properties` (numbers and booleans as their JSON text; `null`, objects and
    /// arrays left out, so they render as missing).
    public static func properties(_ object: [String: JSONValue]) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in object {
            switch value {
            case .string, .int, .double, .bool: values[name] = value.scalarText
            case .null, .object, .array: continue
            }
        }
        return values
    }

    private static func placeholder(_ expression: Substring, at position: Int) throws(SyntaxError) -> Part {
        let problem = #"must be {{ contact.<property> }} or {{ contact.<property> | default: "…" }}"#
        var pipe = expression.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
        let variable = pipe.removeFirst().trimmingCharacters(in: .whitespaces)
        guard variable.hasPrefix("contact.") else {
            throw SyntaxError(message: "the placeholder at character \(position), {{\(expression)}}, \(problem)")
        }
        let name = String(variable.dropFirst("contact.".count))
        guard let first = name.first, first.isASCII, first.isLetter || first == "_",
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
        else {
            throw SyntaxError(
                message: "the placeholder at character \(position) names no valid property (\"\(name)\"): it \(problem)")
        }
        guard let filter = pipe.first else { return .property(name: name, fallback: nil) }
        let trimmed = filter.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("default:") else {
            throw SyntaxError(
                message: "the placeholder at character \(position) uses a filter other than default: it \(problem)")
        }
        let argument = trimmed.dropFirst("default:".count).trimmingCharacters(in: .whitespaces)
        guard let quote = argument.first, quote == "\"" || quote == "'", argument.count >= 2, argument.last == quote,
            !argument.dropFirst().dropLast().contains(quote)
        else {
            throw SyntaxError(
                message: "the fallback of the placeholder at character \(position) must be one quoted text: it \(problem)")
        }
        return .property(name: name, fallback: String(argument.dropFirst().dropLast()))
    }
}
