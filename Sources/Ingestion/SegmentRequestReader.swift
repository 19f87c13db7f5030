import Domain
/// Reads a Segment request body in one pass, validating all of it as strictly as `JSONValue.parse` does, but building
/// only what normalization reads: each message's members as byte ranges, and the values of the few members it
/// checks or rewrites. Everything else stays bytes, copied to the stored message unchanged.
struct SegmentRequestReader {
    /// An object's member as sent: its decoded name, where it starts (its name's opening quote) and its value's bytes.
    struct Member {
        var name: String
        var start: Int
        var value: Range<Int>
        /// The member written as sent: `"name": value`.
        var text: Range<Int> { start..<value.upperBound }
    }

    /// An object read one level deep.
    struct RawObject {
        var members: [Member] = []

        /// The last member named `name` (JSON objects with repeated names keep the last, as `jsonb` does).
        func last(_ name: String) -> Member? { members.last { $0.name == name } }
    }

    /// The members of a message that normalization reads or rewrites (16, the slots of a `FieldTable`). Every other
    /// member is copied as sent.
    enum Field: Int, CaseIterable {
        case writeKey, type, messageId, userId, anonymousId, previousId, groupId, event, timestamp, sentAt
        case originalTimestamp, receivedAt, context, integrations, traits, properties

        init?(name: String) {
            switch name {
            case "writeKey": self = .writeKey
            case "type": self = .type
            case "messageId": self = .messageId
            case "userId": self = .userId
            case "anonymousId": self = .anonymousId
            case "previousId": self = .previousId
            case "groupId": self = .groupId
            case "event": self = .event
            case "timestamp": self = .timestamp
            case "sentAt": self = .sentAt
            case "originalTimestamp": self = .originalTimestamp
            case "receivedAt": self = .receivedAt
            case "context": self = .context
            case "integrations": self = .integrations
            case "traits": self = .traits
            case "properties": self = .properties
            default: return nil
            }
        }

        /// The member's name in a message.
        var name: String {
            switch self {
            case .writeKey: "writeKey"
            case .type: "type"
            case .messageId: "messageId"
            case .userId: "userId"
            case .anonymousId: "anonymousId"
            case .previousId: "previousId"
            case .groupId: "groupId"
            case .event: "event"
            case .timestamp: "timestamp"
            case .sentAt: "sentAt"
            case .originalTimestamp: "originalTimestamp"
            case .receivedAt: "receivedAt"
            case .context: "context"
            case .integrations: "integrations"
            case .traits: "traits"
            case .properties: "properties"
            }
        }

        /// Whether normalization needs the value built (small scalars it validates), not only its bytes.
        var isParsed: Bool {
            switch self {
            case .writeKey, .type, .messageId, .userId, .anonymousId, .previousId, .groupId, .event, .timestamp, .sentAt: true
            case .originalTimestamp, .receivedAt, .context, .integrations, .traits, .properties: false
            }
        }
    }

    /// Values by field (no hashing): where each field's value is, inline, and the values present, in the order they
    /// were set. A message without fields allocates nothing, one with fields one array of room for 12 (what a library's
    /// message holds), so a batch of thousands of tiny messages does not take hundreds of times its size in memory.
    struct FieldTable<Value> {
        /// For each `Field`, the index of its value in `values`, or -1.
        private var positions = SIMD16<Int8>(repeating: -1)
        private var values: [Value] = []

        subscript(field: Field) -> Value? {
            get {
                let position = positions[field.rawValue]
                return position < 0 ? nil : values[Int(position)]
            }
            set {
                let position = positions[field.rawValue]
                guard let newValue else {
                    positions[field.rawValue] = -1
                    return
                }
                if position >= 0 {
                    values[Int(position)] = newValue
                } else {
                    if values.isEmpty { values.reserveCapacity(12) }
                    positions[field.rawValue] = Int8(values.count)
                    values.append(newValue)
                }
            }
        }
    }

    /// What a member's value is, as far as a check of "must be an object" goes.
    enum Shape { case object, null, other }

    /// The last occurrence of one field in a message.
    struct FieldValue {
        var value: Range<Int>
        /// The built value, for fields that are `isParsed`.
        var parsed: JSONValue?
        /// The members, for `context` and `integrations` when they are objects.
        var object: RawObject?
    }

    /// A message (an element of `batch`, or the body of a single-message endpoint) as sent.
    struct RawMessage {
        var span: Range<Int>
        /// All members, in order; those with a `Field` name are never copied as sent.
        var members: [(member: Member, isField: Bool)] = []
        /// The last occurrence of each field.
        var fields = FieldTable<FieldValue>()

        subscript(field: Field) -> FieldValue? { fields[field] }
    }

    /// An element of `batch`: a message, or something else (rejected as "not a JSON object").
    enum Element {
        case message(RawMessage)
        case notAnObject(Range<Int>)

        var span: Range<Int> {
            switch self {
            case .message(let message): message.span
            case .notAnObject(let span): span
            }
        }
    }

    /// The body of a batch request.
    struct RawBatch {
        /// `nil` when the body has no `batch` member; `.some(nil)` when it is not an array.
        var elements: [Element]?? = nil
        var context: (shape: Shape, object: RawObject?)?
        var integrations: (shape: Shape, object: RawObject?)?
        var sentAt: JSONValue?
        var writeKey: JSONValue?
    }

    /// The body as read for the endpoint.
    enum Body {
        case batch(RawBatch)
        case message(RawMessage)
        case notAnObject
    }

    /// Reads a whole body. Throws the parser's failure for anything that is not valid JSON.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, batch: Bool) throws(JSONParser.Failure) -> Body {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let body: Body
        if parser.current == UInt8(ascii: "{") {
            body = batch ? .batch(try readBatch(&parser)) : .message(try readMessage(&parser))
        } else {
            try parser.scanValue()
            body = .notAnObject
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw JSONParser.Failure(reason: "unexpected text after the JSON value", offset: parser.index)
        }
        return body
    }

    /// The top-level `writeKey` of a body (the last one, as for every member), reading nothing else into memory: the
    /// rest is validated and skipped. `nil` when the body is not an object or has no `writeKey`.
    static func writeKey(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParser.Failure) -> JSONValue? {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        var writeKey: JSONValue?
        if parser.current == UInt8(ascii: "{") {
            try parser.forEachMember { parser, name, _ throws(JSONParser.Failure) in
                if name == "writeKey" { writeKey = try parser.parseValue() } else { try parser.scanValue() }
            }
        } else {
            try parser.scanValue()
        }
        parser.skipWhitespace()
        guard parser.index == bytes.count else {
            throw JSONParser.Failure(reason: "unexpected text after the JSON value", offset: parser.index)
        }
        return writeKey
    }

    static func readBatch(_ parser: inout JSONParser) throws(JSONParser.Failure) -> RawBatch {
        var batch = RawBatch()
        try parser.forEachMember { parser, name, _ throws(JSONParser.Failure) in
            switch name {
            case "batch":
                guard parser.current == UInt8(ascii: "[") else {
                    try parser.scanValue()
                    batch.elements = .some(nil)
                    return
                }
                var elements: [Element] = []
                try parser.forEachElement { parser throws(JSONParser.Failure) in
                    if parser.current == UInt8(ascii: "{") {
                        elements.append(.message(try readMessage(&parser)))
                    } else {
                        let start = parser.index
                        try parser.scanValue()
                        elements.append(.notAnObject(start..<parser.index))
                    }
                }
                batch.elements = .some(elements)
            case "context": batch.context = try readDefaults(&parser)
            case "integrations": batch.integrations = try readDefaults(&parser)
            case "sentAt": batch.sentAt = try parser.parseValue()
            case "writeKey": batch.writeKey = try parser.parseValue()
            default: try parser.scanValue()
            }
        }
        return batch
    }

    /// Reads the batch-level `context` or `integrations`.
    static func readDefaults(_ parser: inout JSONParser) throws(JSONParser.Failure) -> (shape: Shape, object: RawObject?) {
        let start = parser.index
        if parser.current == UInt8(ascii: "{") { return (.object, try readObject(&parser)) }
        try parser.scanValue()
        return (parser.bytes[start] == UInt8(ascii: "n") ? .null : .other, nil)
    }

    /// Reads an object one level deep; member values are validated, not built.
    static func readObject(_ parser: inout JSONParser) throws(JSONParser.Failure) -> RawObject {
        var object = RawObject()
        try parser.forEachMember { parser, name, start throws(JSONParser.Failure) in
            let valueStart = parser.index
            try parser.scanValue()
            object.members.append(Member(name: name, start: start, value: valueStart..<parser.index))
        }
        return object
    }

    static func readMessage(_ parser: inout JSONParser) throws(JSONParser.Failure) -> RawMessage {
        let start = parser.index
        var message = RawMessage(span: start..<start)
        try parser.forEachMember { parser, name, memberStart throws(JSONParser.Failure) in
            let valueStart = parser.index
            let field = Field(name: name)
            var value = FieldValue(value: valueStart..<valueStart)
            if let field, field.isParsed {
                value.parsed = try parser.parseValue()
            } else if let field, field == .context || field == .integrations, parser.current == UInt8(ascii: "{") {
                value.object = try readObject(&parser)
            } else {
                try parser.scanValue()
            }
            value.value = valueStart..<parser.index
            let member = Member(name: name, start: memberStart, value: value.value)
            message.members.append((member, field != nil))
            if let field { message.fields[field] = value }
        }
        message.span = start..<parser.index
        return message
    }

    /// The shape of a value from its first byte (the value was validated).
    static func shape(of value: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Shape {
        switch bytes[value.lowerBound] {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "n"): .null
        default: .other
        }
    }
}
