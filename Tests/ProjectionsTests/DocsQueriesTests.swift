import Domain
import EventStore
import Foundation
import PQ
@testable import Projections
import TestSupport
import Testing

/// Every SQL example of the documentation (README.md and docs/*.md) runs as written against a populated read model;
/// the examples of docs/read-models.md ("Query it with SQL") also return what they promise.
@Suite struct DocsQueriesTests {
    /// The repository's root folder.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    /// README.md and every Markdown file under docs/, relative to the root.
    static func documents() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.sorted().map { "docs/" + $0 }
        return ["README.md"] + docs
    }

    /// The ```sql blocks of `text` (fences may be indented, as in a list item), in order.
    static func sqlBlocks(_ text: String) -> [String] {
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if current == nil {
                if trimmed == "```sql" { current = [] }
            } else if trimmed.hasPrefix("```") {
                blocks.append(current!.map { $0.drop { $0 == " " } }.joined(separator: "\n"))
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    /// The blocks between `<!-- sql-examples:start -->` and `<!-- sql-examples:end -->` in docs/read-models.md.
    static func readModelExamples() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/read-models.md"), encoding: .utf8)
        guard let start = text.range(of: "<!-- sql-examples:start -->"), let end = text.range(of: "<!-- sql-examples:end -->") else {
            throw ProjectionError("docs/read-models.md has no sql-examples markers")
        }
        return sqlBlocks(String(text[start.upperBound..<end.lowerBound]))
    }

    /// Every statement of every ```sql block of the documentation, with the file it comes from, except the grant
    /// statements of the service role, which `ServiceRole.documentedGrants()` runs (ServiceRoleTests).
    static func documentedStatements() throws -> [(file: String, sql: String)] {
        var statements: [(file: String, sql: String)] = []
        var grantBlocks = 0
        for file in try documents() {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            for block in sqlBlocks(text) {
                if block.contains("CREATE ROLE hubsignal_service") {
                    grantBlocks += 1
                    continue
                }
                for statement in block.components(separatedBy: ";\n") {
                    let sql = statement.trimmingCharacters(in: .whitespacesAndNewlines)
                    let code = sql.split(separator: "\n").filter { !$0.hasPrefix("--") }
                    if !code.isEmpty { statements.append((file, sql.hasSuffix(";") ? String(sql.dropLast()) : sql)) }
                }
            }
        }
        #expect(grantBlocks == 1, "one block of grants (docs/security.md, Privileges) expected, found \(grantBlocks)")
        return statements
    }

    @Test func theBlockParserFindsIndentedFencesAndNothingElse() {
        let text = "intro\n```sql\nSELECT 1\n```\n- item\n\n  ```sql\n  SELECT 2;\n  SELECT 3\n  ```\n```sh\nls\n```\n"
        #expect(Self.sqlBlocks(text) == ["SELECT 1", "SELECT 2;\nSELECT 3"])
    }

    @Test func everyDocumentedQueryRunsAndTheReadModelExamplesFindTheRightRows() async throws {
        let examples = try Self.readModelExamples()
        #expect(examples.count >= 5)
        let statements = try Self.documentedStatements()
        // Every read-model example is among them, and so are the sync pages' queries.
        #expect(statements.count >= examples.count + 3)
        #expect(Set(statements.map(\.file)).isSuperset(of: ["docs/read-models.md", "docs/hubspot-sync.md", "docs/onesignal-sync.md"]))
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            log.clock = Date()
            let audience = #""context":{"personas":{"computation_class":"audience","computation_key":"big_spenders"}}"#
            for (user, email) in [("ada", "ada@example.com"), ("bob", "bob@example.com"), ("cy", "cy@example.com")] {
                try await log.append(
                    .identify,
                    #"{"type":"identify","userId":"\#(user)","anonymousId":"anon-\#(user)","traits":{"email":"\#(email)","big_spenders":true},\#(audience)}"#)
                if user == "bob" { continue }
                try await log.append(
                    EventType.oneSignal("message.push.clicked"),
                    #"{"event_id":"ev-\#(user)","kind":"message.push.clicked","external_id":"\#(user)","message_id":"n-1"}"#,
                    source: .onesignal)
            }
            // Cy is already in HubSpot; Bob never clicked.
            try await log.project()
            let cy = try await log.strings("SELECT contact_id FROM contacts WHERE user_id = 'cy'")[0]
            try await log.append(.hubSpotContactSynced, #"{"contactId":"\#(cy)","hubspotId":"77"}"#, source: .hubsignal)
            try await log.append(.group, #"{"type":"group","userId":"ada","groupId":"g1","traits":{"name":"Acme","website":"acme.com"}}"#)
            try await log.append(.alias, #"{"type":"alias","previousId":"bob","userId":"bobby"}"#)
            try await log.project()

            for (index, sql) in examples.enumerated() {
                let rows = try await database.client.query(PQQuery(unsafeSQL: sql, name: "docs.example_\(index)"))
                if index == 0 {
                    #expect(try rows.map { try $0.decode(String.self, at: 1) } == ["ada@example.com"])
                }
                if index == 1 {
                    #expect(try rows.map { "\(try $0.decode(String.self, at: 0)):\(try $0.decode(String.self, at: 1))" } == [
                        "anonymous_id:anon-ada", "email:ada@example.com", "user_id:ada",
                    ])
                }
            }
            for (index, statement) in statements.enumerated() {
                do {
                    _ = try await database.client.query(PQQuery(unsafeSQL: statement.sql, name: "docs.statement_\(index)"))
                } catch {
                    Issue.record("\(statement.file): \(statement.sql)\nfails: \(String(reflecting: error))")
                }
            }
        }
    }
}
