import Domain
import Foundation
import Ingestion
import Testing

/// The normalizer writes stored messages from the bytes the client sent; `TreeSegmentNormalizer` (the earlier one,
/// which parsed the whole body into a tree, changed it and serialized it) is its oracle. For generated requests —
/// every field the normalizer reads in every shape it can take (absent, null, blank, numbers, objects, escapes,
/// repeated names, batch defaults), and byte-level corruptions of them — both must agree on everything: the JSON
/// errors (text and offset), the request errors, and per message the outcome, stream, time, id, rejection reason and
/// the stored JSON.
@Suite struct SegmentNormalizerParityTests {
    let receivedAt = ISO8601Timestamp.parse("2026-11-23T12:00:10.000Z")!

    @Test func handWrittenEdgeCasesAgree() throws {
        let bodies: [(SegmentEndpoint, String)] = [
            (.batch, #"{"batch": [{"type": "track", "userId": "u", "event": "E", "userId": "v", "context": {"a": 1}, "context": null}]}"#),
            (.batch, #"{"batch": [{"type": "identify", "userId": "u"}], "context": {"traits": {"email": "b@example.com"}, "ip": "1"}}"#),
            (.batch, #"{"batch": [{"type": "identify", "userId": "u", "context": {"traits": null}}], "context": {"traits": {"email": "b"}}}"#),
            (.batch, #"{"batch": [{"type": "identify", "userId": "u", "traits": null, "context": {"traits": {"x": 1}}}]}"#),
            (.batch, #"{"batch": [{"type": "TRACK", "user\u0049d": "u", "ev\u0065nt": "E \u00e9\ud83d\ude00", "messageId": 12}]}"#),
            (.batch, #"{"batch": [{"type": "page", "anonymousId": "  ", "userId": 3.0}], "sentAt": "2026-11-23T12:00:05Z"}"#),
            (.batch, #"{"batch": [{"type": "page", "userId": "u", "timestamp": "2026-11-23T12:00:00Z", "sentAt": null, "originalTimestamp": null}], "sentAt": 5}"#),
            (.batch, #"{"batch": [{"type": "page", "userId": "u", "timestamp": "2026-11-23T12:00:00Z", "sentAt": "2026-11-23T12:00:01Z", "receivedAt": "x", "writeKey": "k"}]}"#),
            (.batch, #"{"batch": [{"type": "group", "userId": "u", "groupId": 7, "traits": {"n": 1e2, "big": 123456789012345678901234567890}}], "integrations": {"All": false}}"#),
            (.batch, #"{"batch": [{"type": "alias", "userId": "u", "previousId": "p", "integrations": {"All": true}}], "integrations": {"All": false, "X": 1}, "context": {}}"#),
            (.batch, #" { "batch" : [ { "type" : "screen" , "userId" : "u" , "properties" : { "a" : [ 1 , 2 ] } } ] , "writeKey" : "wk" } "#),
            (.batch, #"{"batch": [], "batch": [{"type": "track", "userId": "u", "event": "Last batch wins"}]}"#),
            (.batch, #"{"batch": [1, "x", null, [], {"type": "track"}]}"#),
            (.batch, #"{"context": [], "batch": []}"#),
            (.batch, #"{"integrations": "x", "batch": []}"#),
            (.batch, #"{"batch": {}}"#),
            (.batch, #"{}"#),
            (.batch, #"[]"#),
            (.single(.track), #"{"userId": "u", "event": "E", "writeKey": "wk", "type": "identify"}"#),
            (.single(.identify), #"{"anonymousId": "a", "context": {"traits": {"e": "x"}}, "sentAt": "2026-11-23T12:00:09Z", "timestamp": "2026-11-23T12:00:08+01:00"}"#),
            (.single(.alias), #"{"userId": "u"}"#),
            (.single(.track), #""just a string""#),
            (.single(.track), #"{"userId": "u", "event": "E"} x"#),
            (.single(.track), #"{"userId": "u", "event": "\u0000"}"#),
            (.single(.track), #"{"userId": "u", "event": "\ud800"}"#),
            (.single(.track), "{\"userId\": \"u\", \"event\": \"\u{1}\"}"),
            (.single(.track), #"{"userId": "u", "event": "E", "properties": {"n": 1e400}}"#),
            (.single(.track), #"{"userId": "u", "event": "E", "properties": {"n": -0.5e-3, "m": 01}}"#),
            (.single(.track), #"{"userId": "u", "event": "E", "properties": {"n": 1.}}"#),
            (.single(.track), #"{"userId": "u", "event": "E", "properties": {"n": 12345678901234567890}}"#),
            (.single(.track), #"{"userId": "u", "event": "E""#),
            (.single(.track), #"{"userId" "u"}"#),
            (.single(.track), #"{"userId": "u",}"#),
        ]
        for (endpoint, text) in bodies {
            try expectParity(Array(text.utf8), endpoint: endpoint)
        }
        // Invalid UTF-8 inside a string, and nesting at the limit.
        try expectParity(Array(#"{"userId": "u", "event": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8), endpoint: .single(.track))
        try expectParity(Array(#"{"userId": "u", "event": ""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), endpoint: .single(.track))
        // Long numbers without an exponent: within Double's range up to 308 digits, out of it above.
        for digits in [299, 300, 301, 308, 309, 310, 400] {
            let number = "1" + String(repeating: "0", count: digits - 1)
            for text in [number, "-" + number, number + ".5", "0." + number] {
                try expectParity(Array(#"{"userId": "u", "event": "E", "properties": {"n": \#(text)}}"#.utf8), endpoint: .single(.track))
            }
        }
        for depth in [61, 62, 63] {
            let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
            try expectParity(Array(#"{"userId": "u", "event": "E", "properties": {"n": \#(nested)}}"#.utf8), endpoint: .single(.track))
        }
    }

    /// The limits of a message as stored and of a request's stored total (issue 18 §1), on compact JSON, whose size is the
    /// same as bytes and as a tree.
    @Test func storedSizeLimitsAgree() throws {
        func batch(context: String, messages: Int, sentAt: String? = nil) -> [UInt8] {
            let list = (0..<messages).map { #"{"type":"track","userId":"u","event":"E","messageId":"m-\#($0)"}"# }
            let sent = sentAt.map { #","sentAt":"\#($0)""# } ?? ""
            return Array(#"{"context":\#(context),"batch":[\#(list.joined(separator: ","))]\#(sent)}"#.utf8)
        }
        let pad = { (count: Int) in #"{"pad":"\#(String(repeating: "x", count: count))"}"# }
        var outcomes: [Tally] = []
        // Around the 32 KB limit of one message with what it inherits: accepted below, refused above.
        for size in stride(from: 32_660, through: 32_720, by: 4) {
            outcomes.append(try expectParity(batch(context: pad(size), messages: 2), endpoint: .batch))
        }
        #expect(outcomes.contains { $0.accepted == 2 } && outcomes.contains { $0.requestErrors == 1 })
        // The batch's sentAt, inherited by every message, counts too (any number of fractional digits parse).
        let sentAt = "2026-11-23T12:00:05." + String(repeating: "0", count: 40_000) + "Z"
        #expect(try expectParity(batch(context: "{}", messages: 3, sentAt: sentAt), endpoint: .batch).requestErrors == 1)
        // An identify call's context.traits copied to traits counts too.
        let traits = #"{"userId":"u","context":{"traits":{"pad":"\#(String(repeating: "t", count: 20_000))"}}}"#
        #expect(try expectParity(Array(traits.utf8), endpoint: .single(.identify)).requestErrors == 1)
        // The 2 MB of a request as stored: 30 KB inherited by 60 messages fits, by 80 does not.
        #expect(try expectParity(batch(context: pad(30_000), messages: 60), endpoint: .batch).accepted == 60)
        #expect(try expectParity(batch(context: pad(30_000), messages: 80), endpoint: .batch).requestErrors == 1)
        // Rejected messages count as their rows of `rejections`: 60,000 of them refuse the request.
        let tiny = Array(#"{"batch":[\#(Array(repeating: "{}", count: 60_000).joined(separator: ","))]}"#.utf8)
        #expect(try expectParity(tiny, endpoint: .batch).requestErrors == 1)
        let fewer = Array(#"{"batch":[\#(Array(repeating: "{},1", count: 100).joined(separator: ","))]}"#.utf8)
        #expect(try expectParity(fewer, endpoint: .batch).rejected == 200)
    }

    @Test func generatedRequestsAgree() throws {
        var random = TestRandom(seed: 7)
        var tally = Tally()
        for _ in 0..<3_000 {
            let (endpoint, body) = Self.request(&random)
            tally.add(try expectParity(body, endpoint: endpoint))
        }
        // The generator reaches every outcome often (a comparison of errors only would prove little).
        #expect(tally.accepted > 2_000 && tally.rejected > 1_000 && tally.requestErrors > 300, "\(tally)")
    }

    @Test func corruptedRequestsAgree() throws {
        var random = TestRandom(seed: 11)
        var tally = Tally()
        let structural = Array(#"{}[]",:\ntfn0-1.eE+u"#.utf8) + [0xC3, 0xFF, 0x00]
        for _ in 0..<3_000 {
            var (endpoint, body) = Self.request(&random)
            for _ in 0..<(1 + random.below(3)) {
                let position = random.below(body.count)
                switch random.below(3) {
                case 0: body[position] = structural[random.below(structural.count)]
                case 1: body.remove(at: position)
                default: body.insert(structural[random.below(structural.count)], at: position)
                }
            }
            tally.add(try expectParity(body, endpoint: endpoint))
        }
        #expect(tally.jsonErrors > 1_000 && tally.accepted > 500, "\(tally)")
    }

    @Test func utf8ValidationMatchesTheStandardLibrary() {
        var random = TestRandom(seed: 3)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<random.below(7)).map { _ in interesting[random.below(interesting.count)] }
            let body = Array(#"{"userId": "u", "event": "E"#.utf8) + bytes.map { $0 == 0 || $0 == 0x41 ? 0x41 : $0 } + Array(#""}"#.utf8)
            let expected = String(validating: body, as: UTF8.self) != nil
            let result = Result { try SegmentNormalizer.normalize(body, endpoint: .single(.track), receivedAt: receivedAt) }
            let accepted = (try? result.get()) != nil
            #expect(accepted == expected, "\(bytes)")
        }
    }

    // MARK: - Comparing

    /// What the compared requests came to.
    struct Tally {
        var accepted = 0, rejected = 0, requestErrors = 0, jsonErrors = 0
        mutating func add(_ other: Tally) {
            accepted += other.accepted
            rejected += other.rejected
            requestErrors += other.requestErrors
            jsonErrors += other.jsonErrors
        }
    }

    @discardableResult
    func expectParity(_ body: [UInt8], endpoint: SegmentEndpoint, sourceLocation: SourceLocation = #_sourceLocation) throws -> Tally {
        let shown = String(decoding: body.prefix(400), as: UTF8.self)
        let new = Result { () throws(IngestionError) in try SegmentNormalizer.normalize(body, endpoint: endpoint, receivedAt: receivedAt) }
        let old: Result<TreeSegmentNormalizer.Result, IngestionError>
        do {
            let tree = try JSONValue.parse(body)
            old = Result { () throws(IngestionError) in try TreeSegmentNormalizer.normalize(tree, endpoint: endpoint, receivedAt: receivedAt) }
        } catch {
            old = .failure(IngestionError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(error)"))
        }
        switch (old, new) {
        case (.failure(let expected), .failure(let actual)):
            #expect(actual == expected, "\(shown)", sourceLocation: sourceLocation)
            return expected.code == "invalid_json" ? Tally(jsonErrors: 1) : Tally(requestErrors: 1)
        case (.success(let expected), .success(let actual)):
            #expect(actual.bodyWriteKey == expected.bodyWriteKey, "\(shown)", sourceLocation: sourceLocation)
            #expect(actual.accepted.count == expected.accepted.count, "\(shown)", sourceLocation: sourceLocation)
            for (mine, theirs) in zip(actual.accepted, expected.accepted) {
                #expect(mine.index == theirs.index && mine.type == theirs.type && mine.stream == theirs.stream, "\(shown)", sourceLocation: sourceLocation)
                #expect(mine.occurredAt == theirs.occurredAt, "\(shown)", sourceLocation: sourceLocation)
                var stored = try JSONValue.parse(mine.payload)
                var reference = theirs.payload
                if theirs.messageID.hasPrefix("hubsignal-") {
                    // Assigned ids are random: compare their form, then the rest.
                    #expect(mine.messageID.hasPrefix("hubsignal-"), "\(shown)", sourceLocation: sourceLocation)
                    #expect(stored["messageId"] == .string(mine.messageID), "\(shown)", sourceLocation: sourceLocation)
                    stored = stored.replacing("messageId", with: .null)
                    reference = reference.replacing("messageId", with: .null)
                } else {
                    #expect(mine.messageID == theirs.messageID, "\(shown)", sourceLocation: sourceLocation)
                }
                #expect(stored == reference, "\(shown)\nstored:   \(String(decoding: mine.payload, as: UTF8.self))", sourceLocation: sourceLocation)
            }
            #expect(actual.rejected == expected.rejected, "\(shown)", sourceLocation: sourceLocation)
            return Tally(accepted: expected.accepted.count, rejected: expected.rejected.count)
        default:
            Issue.record("outcomes differ for \(shown): tree \(old), bytes \(new)", sourceLocation: sourceLocation)
            return Tally()
        }
    }

    // MARK: - Generating requests

    static let names = [
        "type", "userId", "anonymousId", "previousId", "groupId", "messageId", "event", "timestamp", "sentAt",
        "originalTimestamp", "receivedAt", "context", "integrations", "traits", "properties", "writeKey", "name", "channel",
        "user\\u0049d", "version",
    ]
    static let types = ["identify", "track", "page", "screen", "group", "alias", "Track", "launch"]

    static func request(_ random: inout TestRandom) -> (SegmentEndpoint, [UInt8]) {
        if random.below(4) == 0 {
            let type = SegmentMessageType.allCases[random.below(6)]
            return (.single(type), Array(message(&random, single: true).utf8))
        }
        var members: [String] = []
        members.append(#""batch": [\#((0..<random.below(6)).map { _ in random.below(12) == 0 ? value(&random, depth: 2) : message(&random, single: false) }.joined(separator: ", "))]"#)
        if random.below(2) == 0 { members.append(#""context": \#(random.below(6) == 0 ? value(&random, depth: 2) : object(&random, names: ["traits", "ip", "locale", "library"]))"#) }
        if random.below(3) == 0 { members.append(#""integrations": \#(random.below(6) == 0 ? value(&random, depth: 2) : object(&random, names: ["All", "HubSpot"]))"#) }
        if random.below(3) == 0 { members.append(#""sentAt": \#(timestampValue(&random))"#) }
        if random.below(4) == 0 { members.append(#""writeKey": \#(random.below(4) == 0 ? "7" : "\"wk\"")"#) }
        if random.below(8) == 0 { members.append(#""batch": []"#) }
        random.shuffle(&members)
        return (.batch, Array("{\(members.joined(separator: random.below(2) == 0 ? "," : " ,\n "))}".utf8))
    }

    /// A message that is mostly valid (its type's required members, in good shapes) with a few members of any name
    /// and shape added, so that most are accepted and the rest are rejected for one reason or another.
    static func message(_ random: inout TestRandom, single: Bool) -> String {
        var members: [String] = []
        let type = types[random.below(types.count)]
        if !single || random.below(3) == 0 { members.append(#""type": "\#(type)""#) }
        if random.below(5) != 0 { members.append(#""userId": "user-\#(random.below(100))""#) }
        if random.below(3) == 0 { members.append(#""anonymousId": \#(random.below(2) == 0 ? "\"anon-1\"" : "17")"#) }
        if random.below(4) != 0 { members.append(#""messageId": "m-\#(random.next() % 1_000_000)""#) }
        if type.lowercased() == "track" || random.below(4) == 0 { members.append(#""event": "Event \#(random.below(9))""#) }
        if type == "group" || random.below(6) == 0 { members.append(#""groupId": "g-\#(random.below(9))""#) }
        if type == "alias" || random.below(6) == 0 { members.append(#""previousId": "p-\#(random.below(9))""#) }
        for _ in 0..<random.below(7) {
            let name = names[random.below(names.count)]
            let text: String
            switch name {
            case "userId", "anonymousId", "previousId", "groupId", "messageId", "user\\u0049d": text = identifierValue(&random)
            case "timestamp", "sentAt", "originalTimestamp", "receivedAt": text = timestampValue(&random)
            case "context": text = random.below(8) == 0 ? value(&random, depth: 3) : object(&random, names: ["traits", "ip", "locale"])
            case "integrations", "traits", "properties": text = random.below(8) == 0 ? value(&random, depth: 3) : object(&random, names: ["email", "plan", "All"])
            case "type": text = #""\#(types[random.below(types.count)])""#
            default: text = value(&random, depth: 3)
            }
            members.append(#""\#(name)": \#(text)"#)
        }
        random.shuffle(&members)
        return "{\(members.joined(separator: ", "))}"
    }

    static func identifierValue(_ random: inout TestRandom) -> String {
        [
            "\"u-1\"", "\"anon 2\"", "\"\"", "\"  \"", "42", "3.0", "3.5", "null", "true", "{\"id\": 1}", "\"\\u00e9t\\u00e9\"", "\"é\"", "1e3",
            "\"u-2\"", "\"u-3\"", "7",
        ][random.below(16)]
    }

    static func timestampValue(_ random: inout TestRandom) -> String {
        [
            "\"2026-11-23T12:00:00Z\"", "\"2026-11-23T12:00:05.123456+00:00\"", "\"2026-11-23T11:00:00-0100\"", "\"yesterday\"", "null",
            "17", "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"",
        ][random.below(8)]
    }

    static func object(_ random: inout TestRandom, names: [String]) -> String {
        let members = (0..<random.below(4)).map { _ in
            let name = names[random.below(names.count)]
            let text = name == "traits" && random.below(2) == 0 ? object(&random, names: ["email", "plan"]) : value(&random, depth: 2)
            return #""\#(name)": \#(text)"#
        }
        return "{\(members.joined(separator: ", "))}"
    }

    static func value(_ random: inout TestRandom, depth: Int) -> String {
        switch random.below(depth > 0 ? 10 : 7) {
        case 0: return "null"
        case 1: return random.below(2) == 0 ? "true" : "false"
        case 2: return ["0", "-1", "1.5", "1e2", "-0.25E-2", "9223372036854775807", "9223372036854775808", "123456789012345678901"][random.below(8)]
        case 3: return #""plain""#
        case 4: return #""esc \"q\" \\ \/ \n \u00e9 \ud83d\ude00""#
        case 5: return #""ünïcödé – ✓""#
        case 6: return #""""#
        case 7: return "[\((0..<random.below(3)).map { _ in value(&random, depth: depth - 1) }.joined(separator: ", "))]"
        default: return object(&random, names: ["a", "b", "a", "traits"])
        }
    }
}

/// A small seeded generator, so every run tests the same requests.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }
    mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for index in stride(from: array.count - 1, to: 0, by: -1) { array.swapAt(index, below(index + 1)) }
    }
}

extension JSONValue {
    /// The object with member `name` set to `value` (for comparing objects except one member).
    func replacing(_ name: String, with value: JSONValue) -> JSONValue {
        guard case .object(var members) = self else { return self }
        members[name] = value
        return .object(members)
    }
}
