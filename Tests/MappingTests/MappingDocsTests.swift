import Foundation
import Mapping
import Testing

/// The mapping examples of docs/mapping.md are mappings HubSignal accepts, with the meaning the page gives them.
@Suite struct MappingDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    /// The ```yaml blocks of docs/mapping.md, in order.
    static func yamlBlocks() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/mapping.md"), encoding: .utf8)
        return text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    @Test func theExampleParses() throws {
        let blocks = try Self.yamlBlocks()
        #expect(blocks.count == 1)
        let example = try #require(blocks.first)
        let mapping = try Mapping.parse(example, file: "docs/mapping.md")
        // It is not the defaults: it says something, and that changes the mapping version.
        #expect(mapping.version != Mapping.defaults.version)
        #expect(example.contains("custom_objects:") && example.contains("audiences:"))
    }
}
