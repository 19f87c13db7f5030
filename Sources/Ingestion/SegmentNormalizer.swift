import Domain
import Foundation

/// The six Segment call types.
public enum SegmentMessageType: String, CaseIterable, Sendable, Codable {
    case identify, track, page, screen, group, alias
}

/// Which Segment endpoint a request came to.
public enum SegmentEndpoint: Sendable, Hashable {
    /// `/v1/identify`, `/v1/track`, …: the body is one message of that type.
    case single(SegmentMessageType)
    /// `/v1/batch` and `/v1/import`: the body is `{"batch": [...], "context": …, "integrations": …, "sentAt": …}`.
    case batch
}

/// A valid message, normalized the way Segment documents, ready to append.
public struct NormalizedMessage: Sendable, Hashable {
    /// Its index in the request (0 for single-message endpoints).
    public var index: Int
    public var type: SegmentMessageType
    /// The `messageId` sent, or the one assigned.
    public var messageID: String
    /// The identity it concerns: `user:<userId>` or `anonymous:<anonymousId>`.
    public var stream: String
    /// The clock-skew-corrected `timestamp`.
    public var occurredAt: Date
    /// The message as stored, as JSON text: merged batch context and integrations, `messageId`, `receivedAt`,
    /// corrected `timestamp` and `originalTimestamp`; the write key removed. Members the normalization does not
    /// change are the bytes the client sent.
    public var payload: [UInt8]
}

/// A message of a batch that failed validation. Encodes (for responses) as `{"index", "messageId", "reason"}`.
public struct RejectedMessage: Sendable, Hashable, Encodable {
    /// Its index in the batch.
    public var index: Int
    /// Its `messageId`, when it had a usable one.
    public var messageId: String?
    /// What is wrong with it.
    public var reason: String
    /// The message as received (the write key removed), for the rejections table; not part of the encoding.
    public var message: JSONValue

    enum CodingKeys: String, CodingKey { case index, messageId, reason }

    public init(index: Int, messageId: String?, reason: String, message: JSONValue) {
        self.index = index
        self.messageId = messageId
        self.reason = reason
        self.message = message
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(index, forKey: .index)
        try container.encodeIfPresent(messageId, forKey: .messageId)
        try container.encode(reason, forKey: .reason)
    }
}


/// Validates and normalizes Segment HTTP Tracking API requests (see `shared/contracts/segment.md`).
///
/// The body is read once, validated as strictly as `JSONValue.parse` validates (valid UTF-8, no `\u0000`, no lone
/// surrogates, at most 64 levels), and each stored message is written from the bytes the client sent: the members
/// normalization does not change (properties, traits, the rest of the context…) are copied as they are, and only the
/// ones it sets are written anew. Numbers are therefore stored exactly as sent.
public enum SegmentNormalizer {
    /// Segment's limit for one message: 32 KB. It applies to the message's JSON text as sent, and again to the message
    /// with what it inherits from its batch: its bytes as sent plus the batch's `context` and `integrations` members
    /// merged into it, the batch's `sentAt` and, for an identify call, the `context.traits` copied to `traits`. (The few
    /// members HubSignal sets itself — `type`, an assigned `messageId`, the corrected `timestamp`, `originalTimestamp`
    /// and `receivedAt`, about 150 bytes — are not counted.) A request with a message over it is refused whole.
    public static let maximumMessageBytes = 32 * 1024
    /// Segment's limit for one request: 500 KB (applied to the decompressed body too).
    public static let maximumRequestBytes = 500 * 1024
    /// The most one request may store: 2 MB, its accepted messages as stored plus its rejected ones as sent with their
    /// reasons (the rows of `rejections`). Without it a small batch whose `context` every message inherits could store
    /// hundreds of times its own size. A request over it is refused whole.
    public static let maximumStoredRequestBytes = 2 * 1024 * 1024
    /// The longest `userId`, `anonymousId`, `previousId`, `groupId` or `messageId`: 1 KB. They become keys of the
    /// event log's indexes (stream, idempotency key), which PostgreSQL limits to about 2.7 KB.
    public static let maximumIdentifierBytes = 1024

    /// The outcome of normalizing one request.
    public struct Result: Sendable {
        public var accepted: [NormalizedMessage]
        public var rejected: [RejectedMessage]
        /// The `writeKey` given in the body, if any.
        public var bodyWriteKey: String?
    }

    /// Validates and normalizes a request body (JSON text).
    ///
    /// - Throws: `IngestionError` for problems of the whole request: invalid JSON (`invalid_json`), a wrong top-level
    ///   shape (`invalid_body`), a message over 32 KB as sent or with what it inherits from the batch
    ///   (`message_too_large`), or more than 2 MB to store (`request_too_large`). Problems of single messages of a batch
    ///   are returned as `rejected`.
    public static func normalize(_ body: UnsafeRawBufferPointer, endpoint: SegmentEndpoint, receivedAt: Date) throws(IngestionError)
        -> Result
    {
        let bytes = body.assumingMemoryBound(to: UInt8.self)
        let read: SegmentRequestReader.Body
        do {
            read = try SegmentRequestReader.read(bytes, batch: endpoint == .batch)
        } catch {
            throw IngestionError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(error)")
        }
        let received = Received(date: receivedAt, text: ISO8601Timestamp.format(receivedAt))
        switch read {
        case .notAnObject:
            throw .badRequest("invalid_body", "the body must be a JSON object")
        case .message(let message):
            guard case .single(let type) = endpoint else { preconditionFailure("a single message is read only for a single-message endpoint") }
            let bodyWriteKey = message[.writeKey]?.parsed?.stringValue
            let size = message.span.count
            guard size <= maximumMessageBytes else {
                throw .badRequest(
                    "message_too_large", "the message is \(size) bytes; the limit is \(maximumMessageBytes) bytes (32 KB) per message")
            }
            switch normalizeMessage(message, in: bytes, index: 0, expectedType: type, batch: nil, received: received) {
            case .accepted(let normalized, let inherited):
                try checkStoredSize(of: message, inherited: inherited, index: nil)
                return Result(accepted: [normalized], rejected: [], bodyWriteKey: bodyWriteKey)
            case .rejected(let rejection):
                // A single-message request has nothing else to store: the whole request is invalid.
                throw .badRequest("invalid_message", rejection.reason)
            }
        case .batch(let batch):
            guard let elements = batch.elements else {
                throw .badRequest("invalid_body", "a batch request needs a \"batch\" array of messages")
            }
            guard let elements else { throw .badRequest("invalid_body", "\"batch\" must be an array of messages") }
            if let context = batch.context, context.shape == .other {
                throw .badRequest("invalid_body", "the batch's \"context\" must be an object")
            }
            if let integrations = batch.integrations, integrations.shape == .other {
                throw .badRequest("invalid_body", "the batch's \"integrations\" must be an object")
            }
            let defaults = BatchDefaults(
                context: batch.context?.object, integrations: batch.integrations?.object, sentAt: batch.sentAt?.stringValue)
            var result = Result(accepted: [], rejected: [], bodyWriteKey: batch.writeKey?.stringValue)
            // No more than 2 MB of stored messages can be accepted, and a stored message is over 128 bytes.
            result.accepted.reserveCapacity(min(elements.count, maximumStoredRequestBytes / 128))
            var storedBytes = 0
            for (index, element) in elements.enumerated() {
                let size = element.span.count
                guard size <= maximumMessageBytes else {
                    throw .badRequest(
                        "message_too_large",
                        "message \(index) is \(size) bytes; the limit is \(maximumMessageBytes) bytes (32 KB) per message")
                }
                switch element {
                case .notAnObject(let span):
                    let value = (try? JSONValue.parse(UnsafeBufferPointer(rebasing: bytes[span]))) ?? .null
                    let rejection = RejectedMessage(index: index, messageId: nil, reason: "the message is not a JSON object", message: value)
                    storedBytes += size + rejection.reason.utf8.count
                    result.rejected.append(rejection)
                case .message(let message):
                    switch normalizeMessage(message, in: bytes, index: index, expectedType: nil, batch: defaults, received: received) {
                    case .accepted(let normalized, let inherited):
                        try checkStoredSize(of: message, inherited: inherited, index: index)
                        storedBytes += normalized.payload.count
                        result.accepted.append(normalized)
                    case .rejected(let rejection):
                        storedBytes += size + rejection.reason.utf8.count
                        result.rejected.append(rejection)
                    }
                }
                guard storedBytes <= maximumStoredRequestBytes else {
                    throw .badRequest(
                        "request_too_large",
                        "the messages up to message \(index) are \(storedBytes) bytes as stored (accepted ones with the batch's "
                            + "context, integrations and sentAt merged in, rejected ones with their reasons); the limit is "
                            + "\(maximumStoredRequestBytes) bytes (2 MB) per request: send fewer messages per request, or a smaller batch context")
                }
            }
            return result
        }
    }

    /// The `writeKey` member of a body (top level: the message of a single-message endpoint, or the batch request),
    /// found without normalizing anything, so that a request is authenticated before any work is done for it. `nil`
    /// when the body is not a JSON object (or not valid JSON) or has no string `writeKey`.
    public static func bodyWriteKey(_ body: UnsafeRawBufferPointer) -> String? {
        (try? SegmentRequestReader.writeKey(body.assumingMemoryBound(to: UInt8.self)))??.stringValue
    }

    /// Validates and normalizes a request body (JSON text).
    public static func normalize(_ body: [UInt8], endpoint: SegmentEndpoint, receivedAt: Date) throws(IngestionError) -> Result {
        let result = body.withUnsafeBytes { bytes in
            Swift.Result { () throws(IngestionError) -> Result in try normalize(bytes, endpoint: endpoint, receivedAt: receivedAt) }
        }
        return try result.get()
    }

    /// Refuses a message whose bytes as sent plus `inherited` (what it took from its batch, or copied from its context)
    /// exceed 32 KB.
    static func checkStoredSize(of message: SegmentRequestReader.RawMessage, inherited: Int, index: Int?) throws(IngestionError) {
        let size = message.span.count + inherited
        guard size > maximumMessageBytes else { return }
        let which = index.map { "message \($0)" } ?? "the message"
        throw .badRequest(
            "message_too_large",
            "\(which) is \(size) bytes as stored (\(message.span.count) as sent, \(inherited) inherited from the batch's context, "
                + "integrations and sentAt or copied from context.traits); the limit is \(maximumMessageBytes) bytes (32 KB) per message")
    }

    /// What became of one message.
    enum MessageOutcome {
        /// Normalized; `inheritedBytes` is what it took from its batch or copied from its context (see
        /// `maximumMessageBytes`).
        case accepted(NormalizedMessage, inheritedBytes: Int)
        case rejected(RejectedMessage)
    }

    /// The batch-level members every message of a batch inherits.
    struct BatchDefaults {
        var context: SegmentRequestReader.RawObject?
        var integrations: SegmentRequestReader.RawObject?
        var sentAt: String?
    }

    /// The time the request was received, and its text as stored in `receivedAt`.
    struct Received {
        var date: Date
        var text: String
    }

    typealias Field = SegmentRequestReader.Field

    static func normalizeMessage(
        _ message: SegmentRequestReader.RawMessage, in bytes: UnsafeBufferPointer<UInt8>, index: Int,
        expectedType: SegmentMessageType?, batch: BatchDefaults?, received: Received
    ) -> MessageOutcome {
        var suppliedID = message[.messageId]?.parsed?.identifierValue
        func reject(_ reason: String) -> MessageOutcome {
            .rejected(RejectedMessage(index: index, messageId: suppliedID, reason: reason, message: asReceived(message, in: bytes)))
        }
        if let id = suppliedID, id.utf8.count > maximumIdentifierBytes {
            suppliedID = nil
            return reject(Self.overlong("messageId", id))
        }

        // Type: from the endpoint, or from the message in a batch.
        let type: SegmentMessageType
        if let expectedType {
            type = expectedType
        } else {
            guard let name = message[.type]?.parsed?.stringValue else { return reject("\"type\" is required in a batch message") }
            guard let parsed = SegmentMessageType(rawValue: name) ?? SegmentMessageType(rawValue: name.lowercased()) else {
                return reject("\"type\" must be one of identify, track, page, screen, group, alias (got \"\(name.prefix(64))\")")
            }
            type = parsed
        }

        // Objects: null means absent.
        var objects = SegmentRequestReader.FieldTable<Range<Int>>()
        for field in [Field.context, .integrations, .traits, .properties] {
            guard let value = message[field]?.value else { continue }
            switch SegmentRequestReader.shape(of: value, in: bytes) {
            case .object: objects[field] = value
            case .null: break
            case .other: return reject("\"\(field.name)\" must be an object")
            }
        }

        // Identities: strings or numbers; null or blank means absent.
        var identities = SegmentRequestReader.FieldTable<String>()
        for field in [Field.userId, .anonymousId, .previousId, .groupId] {
            guard let value = message[field]?.parsed else { continue }
            if value.isNull || value.stringValue?.isBlank == true { continue }
            guard let identifier = value.identifierValue else { return reject("\"\(field.name)\" must be a string") }
            guard identifier.utf8.count <= maximumIdentifierBytes else { return reject(Self.overlong(field.name, identifier)) }
            identities[field] = identifier
        }
        switch type {
        case .alias:
            guard identities[.userId] != nil else { return reject("an alias call needs \"userId\"") }
            guard identities[.previousId] != nil else { return reject("an alias call needs \"previousId\"") }
        default:
            guard identities[.userId] != nil || identities[.anonymousId] != nil else {
                return reject("\"userId\" or \"anonymousId\" is required")
            }
        }
        // The bytes the stored message holds beyond the message as sent: what it inherits from the batch, and traits
        // copied from the context.
        var inherited = 0
        // The message's own context (batch-level context and integrations are merged in when it is written).
        let context = objects[.context] == nil ? nil : message[.context]?.object
        var traits = objects[.traits]
        switch type {
        case .track:
            guard let event = message[.event]?.parsed?.stringValue, !event.isBlank else {
                return reject("a track call needs a non-empty \"event\"")
            }
        case .group:
            guard identities[.groupId] != nil else { return reject("a group call needs \"groupId\"") }
        case .identify:
            // RudderStack's server SDKs send identify traits only in context.traits (the message's or the batch's).
            if traits == nil, let contextTraits = context?.last("traits") ?? batch?.context?.last("traits"),
                SegmentRequestReader.shape(of: contextTraits.value, in: bytes) == .object
            {
                traits = contextTraits.value
                inherited += contextTraits.value.count + 10  // ,"traits":
            }
        case .page, .screen, .alias:
            break
        }

        // Timestamps and Segment's clock-skew correction: timestamp = receivedAt − (sentAt − timestamp).
        var timestamp: Date?
        if let value = message[.timestamp]?.parsed, !value.isNull {
            guard let text = value.stringValue, let parsed = ISO8601Timestamp.parse(text) else {
                return reject("\"timestamp\" must be an ISO 8601 date-time with a time zone")
            }
            timestamp = parsed
        }
        var sentAt: Date?
        let sentAtText: String? = message[.sentAt]?.parsed?.stringValue ?? batch?.sentAt
        if let sentAtText {
            guard let parsed = ISO8601Timestamp.parse(sentAtText) else {
                return reject("\"sentAt\" must be an ISO 8601 date-time with a time zone")
            }
            sentAt = parsed
        } else if let value = message[.sentAt]?.parsed, !value.isNull {
            return reject("\"sentAt\" must be an ISO 8601 date-time with a time zone")
        }
        let occurredAt: Date
        var originalTimestamp = message[.originalTimestamp]?.value
        if let timestamp {
            if let sentAt {
                occurredAt = received.date.addingTimeInterval(-sentAt.timeIntervalSince(timestamp))
                if originalTimestamp == nil { originalTimestamp = message[.timestamp]?.value }
            } else {
                occurredAt = timestamp
            }
        } else {
            occurredAt = received.date
        }
        guard ISO8601Timestamp.isStorable(occurredAt) else {
            return reject("\"timestamp\" (corrected for clock skew with \"sentAt\") must fall between the years 1 and 9999")
        }
        let messageID = suppliedID ?? "hubsignal-" + UUID().uuidString.lowercased()

        // The stored message: every member normalization does not set, as sent; then the ones it sets.
        var writer = MessageWriter(bytes: bytes, capacity: message.span.count + 160)
        for (member, isField) in message.members where !isField { writer.copy(member: member.text) }
        writer.name("type")
        writer.string(type.rawValue)
        for field in [Field.userId, .anonymousId, .previousId, .groupId] {
            guard let identifier = identities[field] else { continue }
            writer.name(field.name)
            writer.string(identifier)
        }
        writer.name("messageId")
        writer.string(messageID)
        for (name, value) in [("event", message[.event]?.value), ("traits", traits), ("properties", objects[.properties])] {
            guard let value else { continue }
            writer.name(name)
            writer.copy(value: value)
        }
        for field in [Field.context, .integrations] {
            let batchDefaults = field == .context ? batch?.context : batch?.integrations
            if let defaults = batchDefaults, !defaults.members.isEmpty {
                writer.name(field.name)
                let own = objects[field] == nil ? nil : message[field]?.object
                // Without an object of its own, the member is all inherited: `,"context":{…}` around the defaults, which
                // `merged` counts with one separator each.
                inherited += writer.merged(defaults, own ?? .init()) + (own == nil ? field.name.utf8.count + 5 : 0)
            } else if let own = objects[field] {
                writer.name(field.name)
                writer.copy(value: own)
            }
        }
        if let sentAtText {
            writer.name("sentAt")
            writer.string(sentAtText)
            if message[.sentAt]?.parsed?.stringValue == nil { inherited += sentAtText.utf8.count + 12 }  // ,"sentAt":"…"
        } else if let value = message[.sentAt]?.value {
            writer.name("sentAt")
            writer.copy(value: value)
        }
        if let originalTimestamp {
            writer.name("originalTimestamp")
            writer.copy(value: originalTimestamp)
        }
        writer.name("timestamp")
        writer.string(ISO8601Timestamp.format(occurredAt))
        writer.name("receivedAt")
        writer.string(received.text)

        let stream: String
        if let userID = identities[.userId] {
            stream = "user:" + userID
        } else {
            stream = "anonymous:" + identities[.anonymousId]!
        }
        return .accepted(
            NormalizedMessage(
                index: index, type: type, messageID: messageID, stream: stream, occurredAt: occurredAt, payload: writer.finish()),
            inheritedBytes: inherited)
    }

    /// The message as received, without its write key: what `rejections` records of a refused message.
    static func asReceived(_ message: SegmentRequestReader.RawMessage, in bytes: UnsafeBufferPointer<UInt8>) -> JSONValue {
        var writer = MessageWriter(bytes: bytes, capacity: message.span.count)
        for (member, _) in message.members where member.name != "writeKey" { writer.copy(member: member.text) }
        let text = writer.finish()
        // The members were validated while reading, so this parses.
        return (try? JSONValue.parse(text)) ?? .null
    }

    static func overlong(_ field: String, _ value: String) -> String {
        "\"\(field)\" is \(value.utf8.count) bytes; the limit is \(maximumIdentifierBytes) bytes"
    }
}

/// Writes one stored message: an object of members copied from the request body or written anew.
struct MessageWriter {
    let bytes: UnsafeBufferPointer<UInt8>
    private var output: [UInt8]
    private var members = 0

    init(bytes: UnsafeBufferPointer<UInt8>, capacity: Int) {
        self.bytes = bytes
        output = []
        output.reserveCapacity(capacity)
        output.append(UInt8(ascii: "{"))
    }

    /// Copies a member of the body (`"name": value`) as sent.
    mutating func copy(member: Range<Int>) {
        if members > 0 { output.append(UInt8(ascii: ",")) }
        members += 1
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[member]))
    }

    /// Starts a member written anew: its name; one value (`string`, `copy(value:)` or `merged`) must follow.
    mutating func name(_ name: String) {
        if members > 0 { output.append(UInt8(ascii: ",")) }
        members += 1
        JSONWriter.writeString(name, into: &output)
        output.append(UInt8(ascii: ":"))
    }

    /// A string value, escaped as JSON needs.
    mutating func string(_ text: String) { JSONWriter.writeString(text, into: &output) }

    /// A value of the body, as sent.
    mutating func copy(value: Range<Int>) { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[value])) }

    /// An object of the batch's defaults and the message's own members; a member of the message replaces the
    /// default of the same name. Returns the bytes written for the defaults (their members and separators).
    mutating func merged(_ defaults: SegmentRequestReader.RawObject, _ own: SegmentRequestReader.RawObject) -> Int {
        var inherited = 0
        output.append(UInt8(ascii: "{"))
        var count = 0
        let ownNames = own.members.count > 8 ? Set(own.members.map(\.name)) : nil
        for member in defaults.members {
            let overridden = ownNames?.contains(member.name) ?? own.members.contains { $0.name == member.name }
            if overridden { continue }
            if count > 0 { output.append(UInt8(ascii: ",")) }
            count += 1
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[member.text]))
            inherited += member.text.count + 1
        }
        for member in own.members {
            if count > 0 { output.append(UInt8(ascii: ",")) }
            count += 1
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[member.text]))
        }
        output.append(UInt8(ascii: "}"))
        return inherited
    }

    mutating func finish() -> [UInt8] {
        output.append(UInt8(ascii: "}"))
        return output
    }
}
