import Foundation
import Testing

/// The DocC catalogs of `PQ` and `EventStore` link only to public symbols that exist (with the argument labels the link
/// names) and to articles that exist, so they cannot rot without a test failing. (`scripts/check-docc` builds them with
/// `docc` and typechecks their examples.)
@Suite struct DocumentationCatalogTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    /// A module's Swift sources, by file name.
    static func sources(of module: String) throws -> [String: String] {
        let folder = root.appendingPathComponent("Sources/\(module)")
        var files: [String: String] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".swift") {
            files[name] = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
        return files
    }

    /// The ``…`` links of a Markdown text.
    static func symbolLinks(in text: String) -> [String] {
        text.components(separatedBy: "``").enumerated().compactMap { index, part in
            index % 2 == 1 && !part.isEmpty && !part.contains(" ") ? part : nil
        }
    }

    /// The argument labels of every declaration `keyword name(` or `keyword name<…>(` in `text`, e.g.
    /// `["isolation", "_", "_"]`.
    static func labels(of name: String, keyword: String, in text: String) -> [[String]] {
        var found: [[String]] = []
        let opening = name == "init" ? "init" : "\(keyword) \(name)"
        var rest = Substring(text)
        while let start = rest.range(of: opening) {
            var index = start.upperBound
            if index < rest.endIndex, rest[index] == "<" {
                var depth = 0
                repeat {
                    if rest[index] == "<" { depth += 1 }
                    if rest[index] == ">" { depth -= 1 }
                    index = rest.index(after: index)
                } while depth > 0 && index < rest.endIndex
            }
            guard index < rest.endIndex, rest[index] == "(" else {
                rest = rest[start.upperBound...]
                continue
            }
            index = rest.index(after: index)
            var depth = 1
            var parameters = ""
            while index < rest.endIndex, depth > 0 {
                let character = rest[index]
                if character == "(" || character == "[" { depth += 1 }
                if character == ")" || character == "]" { depth -= 1 }
                if depth > 0 { parameters.append(depth == 1 && character == "," ? "\u{1}" : character) }
                index = rest.index(after: index)
            }
            let list = parameters.split(separator: "\u{1}").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
                .filter { !$0.isEmpty }
                .map { parameter -> String in
                    let words = parameter.prefix { $0 != ":" }.split(separator: " ")
                    return String(words.first ?? "_")
                }
            found.append(list)
            rest = rest[index...]
        }
        return found
    }

    /// Whether `component` (a name, or `name(label:…)`) is declared publicly (or as an enum case) in `text`.
    static func declares(_ component: String, in text: String) -> Bool {
        guard let parenthesis = component.firstIndex(of: "(") else {
            let name = component
            let patterns = [
                "public struct \(name)", "public final class \(name)", "public class \(name)", "public enum \(name)",
                "public protocol \(name)", "public typealias \(name)", "public var \(name)", "public let \(name)",
                "public static let \(name)", "public static var \(name)", "public private(set) var \(name)", "case \(name)",
            ]
            return patterns.contains { pattern in
                text.components(separatedBy: pattern).dropFirst().contains { after in
                    after.first.map { !($0.isLetter || $0.isNumber || $0 == "_") } ?? true
                }
            }
        }
        let name = String(component[..<parenthesis])
        let linked = component[component.index(after: parenthesis)...].dropLast().split(separator: ":").map(String.init)
        for keyword in ["func", "static func", "case"] {
            let candidates = labels(of: name, keyword: keyword, in: text)
            if candidates.contains(where: { $0 == linked }) && (keyword == "case" || text.contains("public \(keyword == "func" ? "" : "static ")func \(name)") || name == "init") {
                return true
            }
        }
        return false
    }

    @Test(arguments: ["PQ", "EventStore"])
    func everySymbolLinkNamesAPublicSymbol(module: String) throws {
        let catalog = Self.root.appendingPathComponent("Sources/\(module)/\(module).docc")
        let articles = try FileManager.default.contentsOfDirectory(atPath: catalog.path).filter { $0.hasSuffix(".md") }
        #expect(articles.contains("\(module).md") && articles.contains("GettingStarted.md"))
        let sources = try Self.sources(of: module)
        var checked = 0
        for article in articles {
            let text = try String(contentsOf: catalog.appendingPathComponent(article), encoding: .utf8)
            for link in Self.symbolLinks(in: text) {
                var components = link.split(separator: "/").map(String.init)
                if components.first == module, components.count > 1 || link == module { components.removeFirst() }
                guard !components.isEmpty else { continue }
                // The first component is a type declared in the module; each further one is declared in a file that
                // declares or extends the one before it.
                var files = Array(sources.values)
                for component in components {
                    let declaring = files.filter { Self.declares(component, in: $0) }
                    #expect(!declaring.isEmpty, "\(module).docc/\(article): ``\(link)``: no public \(component)")
                    guard !declaring.isEmpty else { break }
                    let name = String(component.prefix { $0 != "(" })
                    files = sources.values.filter { text in
                        ["struct", "class", "enum", "protocol", "extension"].contains { text.contains("\($0) \(name) ") || text.contains("\($0) \(name):") }
                            || text.contains(".\(name) ") || text.contains(".\(name):")
                    }
                }
                checked += 1
            }
            for part in text.components(separatedBy: "<doc:").dropFirst() {
                let name = String(part.prefix { $0 != ">" })
                #expect(articles.contains(name + ".md"), "\(module).docc/\(article) links <doc:\(name)>, which is no article")
            }
        }
        #expect(checked > 10, "the catalog of \(module) is really read")
    }

    @Test func theLinkCheckRefusesWhatDoesNotExist() throws {
        let sources = try Self.sources(of: "PQ").values
        #expect(sources.contains { Self.declares("withStatementTimeout(isolation:_:_:)", in: $0) })
        #expect(!sources.contains { Self.declares("withStatementTimeout(_:_:)", in: $0) }, "labels are compared")
        #expect(!sources.contains { Self.declares("PQNothing", in: $0) })
        #expect(!sources.contains { Self.declares("PQResultHandle", in: $0) }, "internal types are no link target")
        #expect(sources.contains { Self.declares("connectionLost", in: $0) })
    }
}
