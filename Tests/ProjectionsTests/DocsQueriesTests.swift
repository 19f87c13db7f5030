import Domain
import EventStore
import Foundation
import PQ
@testable import Projections
import TestSupport
import Testing

/// The SQL examples of the README's "Query it with SQL" section run as written against a populated read model.
@Suite struct ReadmeQueriesTests {
    static func examples() throws -> [String] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "<!-- sql-examples:start -->"), let end = text.range(of: "<!-- sql-examples:end -->") else {
            throw ProjectionError("README.md has no sql-examples markers")
        }
        return text[start.upperBound..<end.lowerBound].components(separatedBy: "```sql\n").dropFirst().map {
            $0.components(separatedBy: "```")[0]
        }
    }

    @Test func everyExampleRunsAndTheFirstFindsTheRightContacts() async throws {
        let examples = try Self.examples()
        #expect(examples.count >= 5)
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
                let rows = try await database.client.query(PQQuery(unsafeSQL: sql, name: "readme.example_\(index)"))
                if index == 0 {
                    #expect(try rows.map { try $0.decode(String.self, at: 1) } == ["ada@example.com"])
                }
                if index == 1 {
                    #expect(try rows.map { "\(try $0.decode(String.self, at: 0)):\(try $0.decode(String.self, at: 1))" } == [
                        "anonymous_id:anon-ada", "email:ada@example.com", "user_id:ada",
                    ])
                }
            }
        }
    }
}
