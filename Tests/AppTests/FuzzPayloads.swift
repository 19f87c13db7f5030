import Foundation
import PropertyBased

/// A JSON document as the fuzzer builds it: object members keep their order and may repeat, numbers are raw text (so
/// `1e400` or 30 digits can be sent), and `.raw` puts bytes between quotes verbatim (invalid UTF-8, raw control bytes,
/// hand-written escapes such as `\ud800`).
indirect enum FuzzJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case raw([UInt8])
    case array([FuzzJSON])
    case object([(String, FuzzJSON)])

    static func == (lhs: FuzzJSON, rhs: FuzzJSON) -> Bool { lhs.bytes == rhs.bytes }

    /// The JSON text.
    var bytes: [UInt8] {
        var output: [UInt8] = []
        write(into: &output)
        return output
    }

    func write(into output: inout [UInt8]) {
        switch self {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .number(let text): output += Array(text.utf8)
        case .string(let text): Self.writeString(text, into: &output)
        case .raw(let content):
            output.append(UInt8(ascii: "\""))
            output += content
            output.append(UInt8(ascii: "\""))
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                element.write(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (offset, (key, value)) in members.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &output)
                output.append(UInt8(ascii: ":"))
                value.write(into: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Writes a string as JSON, escaping quotes, backslashes and control characters (NUL becomes `\u0000`).
    static func writeString(_ text: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): output += [UInt8(ascii: "\\"), byte]
            case 0..<0x20: output += Array(String(format: "\\u%04x", byte).utf8)
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    subscript(key: String) -> FuzzJSON? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    /// Sets (or appends) the member `key` of an object; does nothing to other values.
    mutating func set(_ key: String, _ value: FuzzJSON?) {
        guard case .object(var members) = self else { return }
        members.removeAll { $0.0 == key }
        if let value { members.append((key, value)) }
        self = .object(members)
    }
}

/// Builds payloads, valid and hostile, from a seeded random number generator (so that every case can be replayed with
/// `.fixedSeed`).
struct PayloadFuzzer {
    var rng: any SeededRandomNumberGenerator

    // MARK: - Primitive choices

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }
    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func pick<T>(_ choices: [T]) -> T { choices[int(0...(choices.count - 1))] }

    /// An id no other case uses.
    mutating func uniqueID(_ prefix: String) -> String { "\(prefix)-\(UInt64.random(in: 0...UInt64.max, using: &rng))" }
    mutating func uniqueNumber() -> Int { int(1...(1 << 50)) }

    mutating func letters(_ count: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
        return String((0..<count).map { _ in alphabet[int(0...(alphabet.count - 1))] })
    }

    /// Strings that have broken services before.
    static let hostileStrings: [String] = [
        "", " ", "\t", "\u{3000}", "'); DROP TABLE events; --", "\" OR 1=1 --", "Robert'); DROP TABLE students;--",
        "$1", "%s%s%s%n", "\\", "\\u0000", "\u{202E}gnp.exe", "😀👩‍👩‍👧", "𝕳𝖚𝖇", "\u{FEFF}bom", "null", "0", "-1", "1e400", "true",
        "\r\nX-Injected: 1", "<script>alert(1)</script>", "${jndi:ldap://127.0.0.1/a}", "../../etc/passwd", "a\u{0}b", "\u{1}\u{7f}",
        "message.push.clicked", "contact.propertyChange", "user:42", "ap-1", "{\"plan\": \"pro\"}", "{vip: 1}", "[]",
        "00000000-0000-0000-0000-000000000000", "javascript:alert(1)", "http://", "https://example.com/\u{0}",
    ]

    /// String contents that are not valid UTF-8, or escapes that PostgreSQL cannot store, sent verbatim.
    static let hostileRawStrings: [[UInt8]] = [
        [0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x00], [0x61, 0x00, 0x62], [0x01], [0xE2, 0x82],
        Array("\\ud800".utf8), Array("\\udc00x".utf8), Array("\\u0000".utf8), Array("\\uD83D\\uDE00".utf8), Array("\\x41".utf8),
        Array("\\".utf8), Array("a\\".utf8), [0x0A], [0x7F], [0xC3, 0xA9], [0xF0, 0x9F, 0x98],
    ]

    static let hostileNumbers: [String] = [
        "0", "-0", "1", "-1", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e400", "-1e400", "1e-400",
        "1.5e300", "-1.5e300", "123456789012345678901234567890", "0.1", "1E2", "1e15", "1e19", "999999999999999.5", "3.0",
        "1700000000000", "1700000000000.5", "-1700000000000", "253402300800000", "-62135596800001", "1e12", "01", "1.", ".5",
        "+1", "NaN", "Infinity", "-", "1e", "0x10",
    ]

    static let timestamps: [String] = [
        "2024-02-21T23:45:15.228Z", "2024-02-21T23:45:15+01:00", "2024-02-21 23:45:15Z", "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z", "0000-01-01T00:00:00+23:59", "2024-13-40T25:61:61Z", "2024-02-21T23:45:15.228-99:99",
        "2024-02-21", "not a date", "2024-02-21T23:45:15.0000000000000000000001Z", "", "1969-12-31T23:59:59.5Z",
        "1900-01-01T00:00:00.123Z", "0001-01-01T00:00:00.999-23:59",
    ]

    mutating func hostileString() -> FuzzJSON {
        switch int(0...9) {
        case 0...4: return .string(pick(Self.hostileStrings))
        case 5...6: return .raw(pick(Self.hostileRawStrings))
        case 7: return .string(letters(int(1_000...40_000)))
        case 8: return .string(String(repeating: pick(["a", "é", "😀", " "]), count: int(1_000...12_000)))
        default: return .string(pick(Self.timestamps))
        }
    }

    /// Any JSON value, nested up to `depth`.
    mutating func value(depth: Int = 3) -> FuzzJSON {
        switch int(0...(depth > 0 ? 9 : 6)) {
        case 0: return .null
        case 1: return .bool(chance(0.5))
        case 2: return .number(pick(Self.hostileNumbers))
        case 3: return .number(String(int(-1_000_000...1_000_000)))
        case 4, 5: return hostileString()
        case 6: return .string(letters(int(0...12)))
        case 7: return .array((0..<int(0...4)).map { _ in value(depth: depth - 1) })
        case 8: return .object((0..<int(0...4)).map { _ in (pick(["", "a", "userId", "type", "$where", "'; --", "a\u{0}"]), value(depth: depth - 1)) })
        default: return .object((0..<int(0...4)).map { _ in (letters(int(1...8)), value(depth: depth - 1)) })
        }
    }

    // MARK: - Valid payloads

    mutating func segmentMessage(type: String, inBatch: Bool) -> FuzzJSON {
        var message: [(String, FuzzJSON)] = []
        if inBatch { message.append(("type", .string(type))) }
        message.append(("messageId", .string(uniqueID("m"))))
        if chance(0.8) { message.append(("userId", .string(uniqueID("u")))) }
        if chance(0.5) || message.count == (inBatch ? 2 : 1) { message.append(("anonymousId", .string(uniqueID("anon")))) }
        switch type {
        case "track": message.append(("event", .string(pick(["Signed Up", "Order Completed", "Audience Entered"]))))
        case "group": message.append(("groupId", .string(uniqueID("g"))))
        case "alias": message.append(("previousId", .string(uniqueID("prev"))))
        case "page", "screen": message.append(("name", .string("Home")))
        default: break
        }
        if type == "alias" && !message.contains(where: { $0.0 == "userId" }) { message.append(("userId", .string(uniqueID("u")))) }
        if chance(0.6) {
            message.append(
                (type == "track" || type == "page" || type == "screen" ? "properties" : "traits",
                 .object([("email", .string("ada@example.com")), ("plan", .string("pro")), ("score", .number("7"))])))
        }
        if chance(0.5) { message.append(("context", .object([("ip", .string("127.0.0.1")), ("library", .object([("name", .string("fuzz"))]))]))) }
        if chance(0.5) { message.append(("timestamp", .string("2024-02-21T23:45:15.228Z"))) }
        if chance(0.3) { message.append(("sentAt", .string("2024-02-21T23:45:16.000Z"))) }
        if chance(0.2) { message.append(("integrations", .object([("All", .bool(true))]))) }
        return .object(message)
    }

    mutating func payload(for endpoint: IngestionEndpoint) -> FuzzJSON {
        switch endpoint {
        case .identify, .track, .page, .screen, .group, .alias:
            return segmentMessage(type: endpoint.rawValue, inBatch: false)
        case .batch, .import:
            var top: [(String, FuzzJSON)] = [
                ("batch", .array((0..<int(1...8)).map { _ in segmentMessage(type: pick(["identify", "track", "page", "screen", "group", "alias"]), inBatch: true) }))
            ]
            if chance(0.4) { top.append(("context", .object([("library", .object([("name", .string("analytics-python"))]))]))) }
            if chance(0.3) { top.append(("sentAt", .string("2024-02-21T23:45:16.000Z"))) }
            return .object(top)
        case .hubSpotWebhook:
            return .array((0..<int(1...5)).map { _ in
                .object([
                    ("eventId", .number(String(uniqueNumber()))), ("subscriptionId", .number(String(int(1...99_999)))),
                    ("portalId", .number("27356661")), ("appId", .number("1109808")),
                    ("occurredAt", .number(String(1_663_842_379_678 + int(0...100_000_000)))),
                    ("subscriptionType", .string(pick(["contact.propertyChange", "contact.creation", "company.deletion", "contact.merge"]))),
                    ("attemptNumber", .number("0")), ("objectId", .number(String(uniqueNumber()))),
                    ("propertyName", .string("email")), ("propertyValue", .string("ada@example.com")), ("changeSource", .string("CRM_UI")),
                ])
            })
        case .sendNotification, .editTags:
            var inputs: [(String, FuzzJSON)]
            if endpoint == .sendNotification {
                inputs = chance(0.3)
                    ? [("template_id", .string("3fa85f64-5717-4562-b3fc-2c963f66afa6"))]
                    : [("content", .string("Flash sale")), ("heading", .string("Hi")), ("url", .string("https://example.com/sale"))]
            } else {
                inputs = [("tags", .string(#"{"plan": "gold", "score": 7, "old": null}"#))]
            }
            if chance(0.5) { inputs.append(("email", .string("ada@example.com"))) }
            if chance(0.3) { inputs.append(("external_id", .string(uniqueID("u")))) }
            return .object([
                ("callbackId", .string(uniqueID("ap"))),
                ("origin", .object([("portalId", .number("27356661")), ("actionDefinitionId", .number("201903771"))])),
                ("context", .object([("workflowId", .number("1640937852")), ("source", .string("WORKFLOWS"))])),
                ("object", .object([("objectId", .number(String(uniqueNumber()))), ("objectType", .string("CONTACT"))])),
                ("inputFields", .object(inputs)),
            ])
        case .oneSignal:
            return .object([
                ("event_id", .string(uniqueID("ev"))), ("kind", .string(pick(["message.push.clicked", "message.push.sent", "message.email.failed"]))),
                ("timestamp", .number("1708559115")), ("datetime", .string("2024-02-21T23:45:15.228Z")), ("app_id", .string("app-1")),
                ("external_id", .string(uniqueID("u"))), ("onesignal_id", .string(uniqueID("os"))), ("subscription_id", .string("b2c3")),
                ("device_type", .string("iOS")), ("failure_reason", .string("")), ("message_id", .string(uniqueID("msg"))),
                ("message_name", .string("weekly")), ("title", .string("Flash Sale")), ("url", .string("https://example.com/sale")),
            ])
        }
    }

    /// The fields each endpoint's parser looks at: where a wrong type or a hostile value matters most.
    static func knownFields(_ endpoint: IngestionEndpoint) -> [String] {
        switch endpoint {
        case .identify, .track, .page, .screen, .group, .alias, .batch, .import:
            return [
                "type", "userId", "anonymousId", "messageId", "previousId", "groupId", "event", "traits", "properties", "context",
                "integrations", "timestamp", "sentAt", "originalTimestamp", "writeKey", "batch", "name",
            ]
        case .hubSpotWebhook:
            return ["eventId", "subscriptionId", "occurredAt", "subscriptionType", "objectId", "primaryObjectId", "propertyValue"]
        case .sendNotification, .editTags:
            return [
                "callbackId", "object", "objectId", "objectType", "inputFields", "fields", "tags", "content", "template_id", "url", "email",
                "external_id", "app", "heading",
            ]
        case .oneSignal:
            return ["event_id", "kind", "timestamp", "datetime", "external_id", "onesignal_id", "message_id", "app_id", "event"]
        }
    }

    // MARK: - Mutations

    /// Fields whose values become identifiers (index keys, streams).
    static let identifierFields: Set<String> = [
        "userId", "anonymousId", "messageId", "previousId", "groupId", "eventId", "subscriptionId", "objectId", "primaryObjectId",
        "subscriptionType", "callbackId", "objectType", "event_id", "external_id", "onesignal_id", "message_id",
    ]
    /// Fields whose values become dates.
    static let dateFields: Set<String> = ["timestamp", "sentAt", "originalTimestamp", "occurredAt", "datetime"]

    /// A value aimed at what the parser does with `field`.
    mutating func hostileValue(for field: String) -> FuzzJSON {
        if Self.dateFields.contains(field) {
            switch int(0...3) {
            case 0: return .string(pick(Self.timestamps))
            case 1: return .number(pick(Self.hostileNumbers))
            case 2: return .string(pick(["nan", "inf", "-inf", "1e400", "1e300", "-1e300", "9223372036854775807", "1e15", "12", "0x10"]))
            default: return value(depth: 1)
            }
        }
        if Self.identifierFields.contains(field) {
            switch int(0...3) {
            case 0: return .string(letters(pick([1_025, 2_000, 2_800, 4_000, int(300...9_000)])))
            case 1: return .number(pick(Self.hostileNumbers))
            default: return chance(0.5) ? hostileString() : value(depth: 1)
            }
        }
        return chance(0.5) ? hostileString() : value(depth: 2)
    }

    /// Applies one structural mutation somewhere in `json`; returns its name.
    mutating func mutate(_ json: inout FuzzJSON, endpoint: IngestionEndpoint) -> String {
        let known = Self.knownFields(endpoint)
        switch int(0...11) {
        case 0...3:
            // The fields the parser reads, in the objects it reads them from (a batch's message, a delivery's event, …).
            let fields = (0..<int(1...3)).map { _ in pick(known) }
            json = transformPrimaryObject(json, endpoint: endpoint) { members, fuzzer in
                for field in fields {
                    members.removeAll { $0.0 == field }
                    if fuzzer.chance(0.9) { members.append((field, fuzzer.hostileValue(for: field))) }
                }
            }
            return "hostile \(fields.joined(separator: "+"))"
        case 4:
            json = transformPrimaryObject(json, endpoint: endpoint) { members, fuzzer in
                guard !members.isEmpty else { return }
                members.remove(at: fuzzer.int(0...(members.count - 1)))
            }
            return "drop a field"
        case 5:
            json = transformPrimaryObject(json, endpoint: endpoint) { members, fuzzer in
                guard !members.isEmpty else { return }
                let index = fuzzer.int(0...(members.count - 1))
                let key = members[index].0
                members[index].0 = fuzzer.pick([key.uppercased(), key + " ", "", fuzzer.letters(3), key + "\u{0}", "\u{FEFF}" + key])
            }
            return "rename a field"
        case 6:
            json = transformPrimaryObject(json, endpoint: endpoint) { members, fuzzer in
                let key = fuzzer.chance(0.5) || members.isEmpty ? fuzzer.pick(known) : members[fuzzer.int(0...(members.count - 1))].0
                members.insert((key, fuzzer.hostileValue(for: key)), at: fuzzer.int(0...members.count))
            }
            return "duplicate a key"
        case 7:
            json = transformPrimaryObject(json, endpoint: endpoint) { members, fuzzer in
                let key = fuzzer.chance(0.7) ? fuzzer.pick(known) : fuzzer.letters(4)
                members.removeAll { $0.0 == key }
                let size = fuzzer.pick([fuzzer.int(2_000...40_000), fuzzer.int(40_000...600_000)])
                members.append((key, .string(fuzzer.chance(0.5) ? fuzzer.letters(size) : String(repeating: "x", count: size))))
            }
            return "huge string"
        default:
            break
        }
        let kind = int(0...4)
        json = transformSomeContainer(json, depth: 0) { container, fuzzer in
            switch (kind, container) {
            case (0, .object(var members)) where !members.isEmpty:
                let index = fuzzer.int(0...(members.count - 1))
                members[index].1 = fuzzer.value(depth: 2)
                return .object(members)
            case (1, _):
                return fuzzer.chance(0.5) ? .array([]) : .object([])
            case (2, .array(var elements)) where !elements.isEmpty:
                let element = elements[fuzzer.int(0...(elements.count - 1))]
                for _ in 0..<fuzzer.int(1...3) { elements.insert(element, at: fuzzer.int(0...elements.count)) }
                return .array(elements)
            case (3, _):
                var nested = container
                for _ in 0..<fuzzer.int(60...120) { nested = fuzzer.chance(0.5) ? .array([nested]) : .object([("a", nested)]) }
                return nested
            case (_, .object(var members)):
                members.append((fuzzer.pick(known), fuzzer.value(depth: 1)))
                return .object(members)
            default:
                return fuzzer.value(depth: 2)
            }
        }
        return ["retype a value", "empty container", "duplicate an array element", "deep nesting", "random member"][kind]
    }

    /// Changes the members of one object the endpoint's parser reads fields from: the message (or one message of a
    /// batch, or the batch itself), one event of a HubSpot delivery, a workflow action or its `object` or `inputFields`.
    /// Falls back to any container when the shape is already broken.
    private mutating func transformPrimaryObject(
        _ json: FuzzJSON, endpoint: IngestionEndpoint, _ change: (inout [(String, FuzzJSON)], inout PayloadFuzzer) -> Void
    ) -> FuzzJSON {
        func changed(_ value: FuzzJSON, _ fuzzer: inout PayloadFuzzer) -> FuzzJSON {
            guard case .object(var members) = value else { return value }
            change(&members, &fuzzer)
            return .object(members)
        }
        switch (endpoint, json) {
        case (.batch, .object(var members)), (.import, .object(var members)):
            if chance(0.8), let index = members.lastIndex(where: { $0.0 == "batch" }), case .array(var messages) = members[index].1,
                !messages.isEmpty
            {
                let pickAt = int(0...(messages.count - 1))
                messages[pickAt] = changed(messages[pickAt], &self)
                members[index].1 = .array(messages)
                return .object(members)
            }
            return changed(json, &self)
        case (.hubSpotWebhook, .array(var events)) where !events.isEmpty:
            let index = int(0...(events.count - 1))
            events[index] = changed(events[index], &self)
            return .array(events)
        case (.sendNotification, .object(var members)), (.editTags, .object(var members)):
            let nested = members.indices.filter { ["object", "inputFields"].contains(members[$0].0) && members[$0].1.isContainer }
            if chance(0.6), !nested.isEmpty {
                let index = pick(nested)
                members[index].1 = changed(members[index].1, &self)
                return .object(members)
            }
            return changed(json, &self)
        case (_, .object):
            return changed(json, &self)
        default:
            return transformSomeContainer(json, depth: 0) { container, fuzzer in changed(container, &fuzzer) }
        }
    }

    /// Replaces one container of `json` (the root, or one reached by walking down at random) with `transform`'s result.
    private mutating func transformSomeContainer(
        _ json: FuzzJSON, depth: Int, _ transform: (FuzzJSON, inout PayloadFuzzer) -> FuzzJSON
    ) -> FuzzJSON {
        let descend = depth < 4 && chance(0.55)
        switch json {
        case .object(var members) where descend && members.contains(where: { $0.1.isContainer }):
            let candidates = members.indices.filter { members[$0].1.isContainer }
            let index = pick(candidates)
            members[index].1 = transformSomeContainer(members[index].1, depth: depth + 1, transform)
            return .object(members)
        case .array(var elements) where descend && elements.contains(where: \.isContainer):
            let candidates = elements.indices.filter { elements[$0].isContainer }
            let index = pick(candidates)
            elements[index] = transformSomeContainer(elements[index], depth: depth + 1, transform)
            return .array(elements)
        default:
            return transform(json, &self)
        }
    }

    /// Applies one byte-level mutation to `bytes`; returns its name.
    mutating func mutateBytes(_ bytes: inout [UInt8]) -> String {
        switch int(0...6) {
        case 0:
            bytes = Array(bytes.prefix(int(0...max(0, bytes.count - 1))))
            return "truncate"
        case 1 where !bytes.isEmpty:
            let index = int(0...(bytes.count - 1))
            bytes[index] ^= UInt8(1 << int(0...7))
            return "flip a bit"
        case 2:
            bytes.insert(UInt8(int(0...255)), at: int(0...bytes.count))
            return "insert a byte"
        case 3 where !bytes.isEmpty:
            bytes.remove(at: int(0...(bytes.count - 1)))
            return "delete a byte"
        case 4:
            bytes = [0xEF, 0xBB, 0xBF] + bytes
            return "byte-order mark"
        case 5:
            bytes += pick([[0x00], Array(",".utf8), Array("}".utf8), Array(" {}".utf8), [0xFF, 0xFE]])
            return "trailing garbage"
        default:
            bytes = (0..<int(0...64)).map { _ in UInt8(int(0...255)) }
            return "random bytes"
        }
    }
}

extension FuzzJSON {
    var isContainer: Bool {
        switch self {
        case .array, .object: return true
        default: return false
        }
    }
}

/// One request of a property test: where it goes, its bytes, and how they were made.
struct FuzzCase: Sendable, CustomStringConvertible {
    var endpoint: IngestionEndpoint
    var body: [UInt8]
    var steps: [String]

    var description: String {
        let preview = String(decoding: body.prefix(300), as: UTF8.self)
        return "POST \(endpoint.path) (\(body.count) bytes) after [\(steps.joined(separator: ", "))]: \(preview)\(body.count > 300 ? "…" : "")"
    }

    /// Cases for `endpoints`: a valid payload with up to three structural mutations and sometimes a byte-level one, or
    /// a random JSON value.
    static func generator(_ endpoints: [IngestionEndpoint]) -> Generator<FuzzCase, Shrink.None<FuzzCase>> {
        Generator { rng in
            var fuzzer = PayloadFuzzer(rng: rng)
            defer { rng = fuzzer.rng }
            let endpoint = fuzzer.pick(endpoints)
            var steps: [String] = []
            var json: FuzzJSON
            if fuzzer.chance(0.1) {
                json = fuzzer.value(depth: 4)
                steps.append("random value")
            } else {
                json = fuzzer.payload(for: endpoint)
                for _ in 0..<fuzzer.int(0...3) { steps.append(fuzzer.mutate(&json, endpoint: endpoint)) }
            }
            var body = json.bytes
            if fuzzer.chance(0.2) { steps.append(fuzzer.mutateBytes(&body)) }
            return FuzzCase(endpoint: endpoint, body: body, steps: steps)
        }
    }
}
