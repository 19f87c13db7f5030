import Foundation
import Testing

/// The module table of docs/architecture.md and the layer picture of README.md agree with Package.swift: every target
/// that is not a test target, its dependencies on our own targets, and the direction of those dependencies.
@Suite struct ArchitectureDocsTests {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// A target of Package.swift: its kind (`target`, `executableTarget`, `systemLibrary`, `testTarget`, …) and the
    /// targets of this package it depends on (string literals in `dependencies:`; `.product(…)`s are other packages').
    struct Target: Equatable {
        var kind: String
        var dependencies: [String]
    }

    /// The targets a Package.swift declares, by name.
    static func targets(inManifest manifest: String) throws -> [String: Target] {
        let declaration = try Regex(#"\.(target|executableTarget|systemLibrary|testTarget|binaryTarget|plugin|macro)\(\s*name:\s*"([^"]+)""#)
        var targets: [String: Target] = [:]
        for match in manifest.matches(of: declaration) {
            let kind = String(match.output[1].substring ?? "")
            let name = String(match.output[2].substring ?? "")
            // The declaration's arguments: up to the parenthesis that closes `.kind(`.
            var depth = 0
            var end = manifest.endIndex
            var index = manifest.index(match.range.lowerBound, offsetBy: kind.count + 1)
            while index < manifest.endIndex {
                if manifest[index] == "(" { depth += 1 }
                if manifest[index] == ")" {
                    depth -= 1
                    if depth == 0 {
                        end = index
                        break
                    }
                }
                index = manifest.index(after: index)
            }
            let arguments = manifest[match.range.upperBound..<end]
            var dependencies: [String] = []
            if let list = arguments.range(of: "dependencies:") {
                var depth = 0
                var literalStart: String.Index?
                var inProduct = 0
                var cursor = list.upperBound
                scan: while cursor < arguments.endIndex {
                    let character = arguments[cursor]
                    if literalStart == nil {
                        switch character {
                        case "[": depth += 1
                        case "]":
                            depth -= 1
                            if depth == 0 { break scan }
                        case "(": inProduct += 1
                        case ")": inProduct -= 1
                        case "\"": literalStart = arguments.index(after: cursor)
                        default: break
                        }
                    } else if character == "\"", let start = literalStart {
                        if inProduct == 0 && depth == 1 { dependencies.append(String(arguments[start..<cursor])) }
                        literalStart = nil
                    }
                    cursor = arguments.index(after: cursor)
                }
            }
            #expect(targets[name] == nil, "Package.swift declares \(name) twice")
            targets[name] = Target(kind: kind, dependencies: dependencies)
        }
        return targets
    }

    /// The non-test targets of the repository's Package.swift.
    static func packageTargets() throws -> [String: Target] {
        try targets(inManifest: text("Package.swift")).filter { $0.value.kind != "testTarget" }
    }

    /// The rows of docs/architecture.md's module table (between `<!-- modules:start -->` and `<!-- modules:end -->`):
    /// each module with the modules its second column names, in the table's order.
    static func documentedModules() throws -> [(name: String, dependencies: [String])] {
        let document = try text("docs/architecture.md")
        let start = try #require(document.range(of: "<!-- modules:start -->"))
        let end = try #require(document.range(of: "<!-- modules:end -->"))
        var rows: [(name: String, dependencies: [String])] = []
        for line in document[start.upperBound..<end.lowerBound].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(cells.count >= 4, "a row of the module table has fewer than three columns: \(line)")
            rows.append((codeSpans(cells[1]).first ?? "", codeSpans(cells[2])))
        }
        return rows
    }

    /// The `code` spans of a Markdown cell.
    static func codeSpans(_ cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    @Test func theManifestParserReadsDeclarationsAndOnlyOurDependencies() throws {
        let manifest = """
            targets: [
                .target(name: "A", swiftSettings: settings + [.unsafeFlags(["-x"])]),
                .systemLibrary(name: "C", pkgConfig: "c", providers: [.apt(["c-dev"])]),
                .target(
                    name: "B",
                    dependencies: [
                        "A", "C",
                        .product(name: "Logging", package: "swift-log"),
                    ],
                    swiftSettings: settings
                ),
                .testTarget(name: "BTests", dependencies: ["B", .product(name: "X", package: "x")]),
            ]
            """
        let targets = try Self.targets(inManifest: manifest)
        #expect(targets == [
            "A": Target(kind: "target", dependencies: []), "C": Target(kind: "systemLibrary", dependencies: []),
            "B": Target(kind: "target", dependencies: ["A", "C"]), "BTests": Target(kind: "testTarget", dependencies: ["B"]),
        ])
        // The real manifest is really read.
        let real = try Self.packageTargets()
        #expect(real.count > 15)
        #expect(real["PQ"]?.dependencies == ["CLibPQ"])
        #expect(real["App"]?.dependencies.contains("API") == true)
    }

    @Test func theModuleTableListsEveryTargetWithItsDependencies() throws {
        let targets = try Self.packageTargets()
        let rows = try Self.documentedModules()
        let names = rows.map(\.name)
        #expect(Set(names).count == names.count, "a module is listed twice: \(names)")
        #expect(Set(names) == Set(targets.keys), """
            docs/architecture.md lists \(Set(names).subtracting(targets.keys).sorted()) that Package.swift lacks, \
            and lacks \(Set(targets.keys).subtracting(names).sorted())
            """)
        for row in rows {
            guard let target = targets[row.name] else { continue }
            let ours = Set(target.dependencies).intersection(targets.keys)
            #expect(Set(row.dependencies) == ours, """
                \(row.name): the table says \(row.dependencies.sorted()), Package.swift \(ours.sorted())
                """)
        }
    }

    @Test func everyDependencyIsListedAboveItsDependent() throws {
        let rows = try Self.documentedModules()
        var listed: Set<String> = []
        for row in rows {
            for dependency in row.dependencies {
                #expect(listed.contains(dependency), "\(row.name) depends on \(dependency), which the table lists below it")
            }
            listed.insert(row.name)
        }
    }

    /// README.md's layer picture (the code block after "The modules, in layers"): each line's modules, top line first.
    static func readmeLayers(known: Set<String>) throws -> [[String]] {
        let readme = try text("README.md")
        let intro = try #require(readme.range(of: "The modules, in layers"))
        let open = try #require(readme.range(of: "```\n", range: intro.upperBound..<readme.endIndex))
        let close = try #require(readme.range(of: "```", range: open.upperBound..<readme.endIndex))
        return readme[open.upperBound..<close.lowerBound].split(separator: "\n").map { line in
            // The modules come before the description, which is set apart by two or more spaces.
            let modules = line.components(separatedBy: "  ")[0]
            return modules.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init).filter(known.contains)
        }
    }

    @Test func theReadmeLayersNameEveryTargetOnceAndPointDown() throws {
        let targets = try Self.packageTargets()
        let layers = try Self.readmeLayers(known: Set(targets.keys))
        let named = layers.flatMap { $0 }
        #expect(named.count == Set(named).count, "README's layers name a module twice: \(named)")
        #expect(Set(named) == Set(targets.keys), "README's layers lack \(Set(targets.keys).subtracting(named).sorted())")
        for (depth, layer) in layers.enumerated() {
            let below = Set(layers.dropFirst(depth + 1).joined())
            for module in layer {
                for dependency in targets[module]?.dependencies ?? [] where targets[dependency] != nil {
                    #expect(below.contains(dependency), "README: \(module) uses \(dependency), which is not in a layer below it")
                }
            }
        }
    }
}
