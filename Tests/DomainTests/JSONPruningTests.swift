import Domain
import Testing

@Suite struct JSONPruningTests {
    @Test func onlyTheKeptMembersOfThePrunedMemberAreBuilt() throws {
        let text = #"""
            {"type":"identify","traits":{"library":1,"email":"a@b.c"},
             "context":{"library":{"name":"x]}\"{[","version":[1,{"a":"}"}]},"traits":{"plan":"pro","nested":{"library":true}},
                        "ip":"1.2.3.4","n":-1.5e3,"t":true,"f":false,"z":null,"personas":{"computation_key":"vip"}},
             "properties":{"context":{"ip":"kept"}}}
            """#
        let pruned = try JSONValue.parse(Array(text.utf8), pruning: "context", keeping: ["traits", "personas"])
        let full = try JSONValue.parse(Array(text.utf8))
        #expect(pruned["context"]?.objectValue?.keys.sorted() == ["personas", "traits"])
        #expect(pruned["context"]?["traits"] == full["context"]?["traits"])
        #expect(pruned["context"]?["personas"] == full["context"]?["personas"])
        // Everything outside the pruned member is untouched, including members of the same names elsewhere.
        #expect(pruned["traits"] == full["traits"])
        #expect(pruned["properties"] == full["properties"])
        #expect(pruned["type"] == full["type"])
    }

    @Test func aPrunedMemberThatIsNotAnObjectIsKeptAsIs() throws {
        let pruned = try JSONValue.parse(Array(#"{"context":[1,2],"x":{"context":{"ip":1}}}"#.utf8), pruning: "context", keeping: [])
        #expect(pruned["context"] == .array([.int(1), .int(2)]))
        #expect(pruned["x"]?["context"]?["ip"] == .int(1))
    }

    @Test func truncatedInputIsStillAnError() {
        #expect(throws: (any Error).self) {
            try JSONValue.parse(Array(#"{"context":{"ip":"1.2.3"#.utf8), pruning: "context", keeping: ["traits"])
        }
    }
}
