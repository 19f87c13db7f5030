import Foundation
import Testing

/// The links of the documentation lead somewhere: every relative Markdown link of README.md, docs/ and deploy/'s
/// READMEs names a file that exists and, with `#anchor`, a heading of that file; every `docs/….md` the deploy files
/// mention exists.
@Suite struct DocsLinksTests {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// Files under `folder` (relative to the root) whose names end with `suffix`, relative to the root, sorted.
    static func files(under folder: String, endingWith suffix: String = "") -> [String] {
        let base = root.appendingPathComponent(folder)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var files: [String] = []
        for case let url as URL in walker where url.lastPathComponent.hasSuffix(suffix) {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files.append(folder + "/" + url.standardizedFileURL.path.dropFirst(base.standardizedFileURL.path.count + 1))
            }
        }
        return files.sorted()
    }

    /// The Markdown files whose links are checked.
    static func documents() -> [String] {
        ["README.md"] + files(under: "docs", endingWith: ".md") + files(under: "deploy", endingWith: "README.md")
    }

    /// GitHub's anchor for a heading: lower-cased, punctuation other than `-` and `_` dropped, spaces made `-`.
    static func anchor(_ heading: some StringProtocol) -> String {
        String(
            heading.trimmingCharacters(in: .whitespaces).lowercased()
                .filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == " " }
                .map { $0 == " " ? "-" : $0 })
    }

    /// The anchors of a Markdown text's headings (lines starting with `#` outside code blocks).
    static func anchors(_ markdown: String) -> Set<String> {
        var anchors: Set<String> = []
        var inCode = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.drop(while: { $0 == " " }).hasPrefix("```") { inCode.toggle() }
            if !inCode && line.hasPrefix("#") { anchors.insert(anchor(line.drop { $0 == "#" })) }
        }
        return anchors
    }

    /// The relative link targets (`](target)`) of a Markdown text.
    static func links(_ markdown: String) throws -> [String] {
        markdown.matches(of: try Regex(#"\]\(([^)\s]+)\)"#)).map { String($0.output[1].substring ?? "") }
            .filter { !$0.hasPrefix("http://") && !$0.hasPrefix("https://") && !$0.hasPrefix("mailto:") }
    }

    /// `path` (relative, with `.` and `..`) resolved from `folder` (components relative to the root).
    static func resolve(_ path: String, in folder: [String]) -> String {
        var components = folder
        for component in path.split(separator: "/") {
            switch component {
            case ".": continue
            case "..": if !components.isEmpty { components.removeLast() }
            default: components.append(String(component))
            }
        }
        return components.joined(separator: "/")
    }

    @Test func anchorsAreGitHubsAndPathsResolve() {
        #expect(Self.resolve("../deploy/onesignal/README.md", in: ["docs"]) == "deploy/onesignal/README.md")
        #expect(Self.resolve("docs/mapping.md", in: []) == "docs/mapping.md")
        #expect(Self.resolve("./event-stream-body.liquid", in: ["deploy", "onesignal"]) == "deploy/onesignal/event-stream-body.liquid")
        #expect(Self.anchor(" Soak and load (`hubsignal-bench soak`; on demand)") == "soak-and-load-hubsignal-bench-soak-on-demand")
        #expect(Self.anchors("# Security and guarantees\n```sh\n# not a heading\n```\n## Several `serve` processes\n")
            == ["security-and-guarantees", "several-serve-processes"])
    }

    @Test func everyRelativeLinkNamesAFileAndAHeadingThatExist() throws {
        var checked = 0
        for document in Self.documents() {
            let folder = document.split(separator: "/").dropLast().map(String.init)
            for link in try Self.links(try Self.text(document)) {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let path = String(parts[0])
                let target = path.isEmpty ? document : Self.resolve(path, in: folder)
                let url = Self.root.appendingPathComponent(target)
                guard FileManager.default.fileExists(atPath: url.path) else {
                    Issue.record("\(document) links to \(link): \(target) does not exist")
                    continue
                }
                if parts.count == 2, target.hasSuffix(".md") {
                    #expect(Self.anchors(try Self.text(target)).contains(String(parts[1])), "\(document) links to \(link): no such heading")
                }
                checked += 1
            }
        }
        #expect(checked > 40)
    }

    @Test func everyDocsFileTheDeployFilesMentionExists() throws {
        var mentioned = 0
        for file in Self.files(under: "deploy") {
            guard let text = try? Self.text(file) else { continue }
            for match in text.matches(of: try Regex(#"docs/[a-z0-9-]+\.md"#)) {
                let path = String(text[match.range])
                #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path), "\(file) mentions \(path), which does not exist")
                mentioned += 1
            }
        }
        #expect(mentioned >= 10)
    }
}
