import Domain
import Foundation
import Testing

@Suite struct JSONValueCodingTests {
    struct Inner: Codable, Hashable {
        var name: String
        var note: String?
    }

    struct Outer: Codable, Hashable {
        var id: Int64
        var small: UInt8
        var ratio: Double
        var flag: Bool
        var tags: [String]
        var inner: Inner
        var list: [Inner]
        var nested: [[Int]]
        var raw: JSONValue
        var map: [String: Int]
        var missing: String?
    }

    let sample = Outer(
        id: 9_007_199_254_740_993, small: 7, ratio: 0.5, flag: true, tags: ["a", "b"], inner: Inner(name: "x", note: nil),
        list: [Inner(name: "y", note: "n")], nested: [[1, 2], []], raw: .object(["k": .array([.null, .bool(false)])]), map: ["m": 3],
        missing: nil)

    @Test func encodesToTheTreeFoundationWouldWrite() throws {
        let tree = try JSONValueEncoder().encode(sample)
        #expect(tree["id"] == .int(9_007_199_254_740_993), "integers stay exact")
        #expect(tree["ratio"] == .double(0.5))
        #expect(tree["inner"] == .object(["name": .string("x")]), "nil optionals are left out")
        #expect(tree["missing"] == nil)
        #expect(tree["nested"] == .array([.array([.int(1), .int(2)]), .array([])]))
        #expect(tree["raw"] == .object(["k": .array([.null, .bool(false)])]), "a JSONValue member is kept as it is")
        let foundation = try JSONValue.parse(Array(try JSONEncoder().encode(sample)))
        #expect(foundation == tree)
        #expect(try JSONValueDecoder().decode(Outer.self, from: tree) == sample)
    }

    @Test func decodesStrictlyAndNamesThePath() throws {
        let decoder = JSONValueDecoder()
        var tree = try JSONValueEncoder().encode(sample)
        guard case .object(var members) = tree else { Issue.record("not an object"); return }
        // A whole double is an integer; an integer is a double.
        members["small"] = .double(7)
        members["ratio"] = .int(2)
        #expect(try decoder.decode(Outer.self, from: .object(members)).ratio == 2)
        // A number is not a string, and the error says where.
        members["list"] = .array([.object(["name": .int(5)])])
        tree = .object(members)
        do {
            _ = try decoder.decode(Outer.self, from: tree)
            Issue.record("decoded a number as a string")
        } catch DecodingError.typeMismatch(_, let context) {
            #expect(context.codingPath.map(\.stringValue) == ["list", "Index 0", "name"])
        }
        members["list"] = .array([])
        members["small"] = .int(300)
        #expect(throws: DecodingError.self) { try decoder.decode(Outer.self, from: .object(members)) }
        members["small"] = .int(1)
        members.removeValue(forKey: "flag")
        #expect(throws: DecodingError.self) { try decoder.decode(Outer.self, from: .object(members)) }
        members["flag"] = .int(1)
        #expect(throws: DecodingError.self) { try decoder.decode(Outer.self, from: .object(members)) }
        #expect(throws: DecodingError.self) { try decoder.decode(String.self, from: .null) }
        #expect(try decoder.decode(String?.self, from: .null) == nil)
    }

    @Test func refusesIntegersJSONCannotHoldExactly() throws {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode([UInt64.max]) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode(["k": UInt64(Int64.max) + 1]) }
        #expect(try JSONValueEncoder().encode([UInt64(Int64.max)]) == .array([.int(.max)]))
    }

    @Test func jsonValueThroughFoundationCoders() throws {
        let value: JSONValue = .object([
            "s": .string("t"), "i": .int(-3), "d": .double(1.25), "b": .bool(true), "n": .null, "a": .array([.int(1), .object([:])]),
        ])
        let text = try JSONEncoder().encode(value)
        #expect(try JSONValue.parse(Array(text)) == value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: text) == value)
    }
}
