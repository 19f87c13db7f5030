import Domain
import Foundation
import Testing

@Suite struct JSONValueTests {
    func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func parsesAndWritesEveryKindOfValue() throws {
        let value = try parse(#" {"s": "a\"b\\c\n\u00e9\ud83d\ude00/", "i": -42, "big": 12345678901234567890, "d": 1.5e3, "t": true, "f": false, "n": null, "a": [1, [], {}]} "#)
        #expect(value["s"] == .string("a\"b\\c\né😀/"))
        #expect(value["i"] == .int(-42))
        #expect(value["big"] == .double(Double("12345678901234567890")!))
        #expect(value["d"] == .double(1500))
        #expect(value["t"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["a"] == .array([.int(1), .array([]), .object([:])]))
        // What is written parses back to the same value, and control characters are escaped.
        #expect(try JSONValue.parse(try value.serialized()) == value)
        let written = String(decoding: try JSONValue.string("tab\there\u{1}").serialized(), as: UTF8.self)
        #expect(written == #""tab\there\u0001""#)
        #expect(value.serializedSize == (try value.serialized()).count)
        #expect(JSONValue.string("tab\there\u{1}").serializedSize == written.utf8.count)
    }

    @Test func refusesWhatJSONbCannotStoreOrHostileInput() throws {
        let hostile: [String] = [
            #"{"a": "\u0000"}"#,  // PostgreSQL's jsonb refuses U+0000
            #"{"a": "\ud800"}"#,  // lone high surrogate
            #"{"a": "\udc00x"}"#,  // lone low surrogate
            String(repeating: "[", count: 65) + String(repeating: "]", count: 65),  // too deep
            #"{"a": 1,}"#, #"{"a" 1}"#, #"[1 2]"#, "01", "1.", "-", "1e", "NaN", "tru", #""unterminated"#, #"{"a": "x"} extra"#,
            "{\"a\": \"raw\ncontrol\"}", "",
        ]
        for text in hostile {
            #expect(throws: (any Error).self, "\(text.prefix(30))") { try parse(text) }
        }
        let invalidUTF8: [UInt8] = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        #expect(throws: (any Error).self) { try JSONValue.parse(invalidUTF8) }
        // 64 levels are fine.
        _ = try parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))
    }
}
