import Domain
import Foundation
import Ingestion

/// The normalizer as it was before messages were written from their raw bytes (session 7): it parsed each request
/// into a `JSONValue` tree, changed the tree and serialized it. Kept as the oracle of `SegmentNormalizerParityTests`:
/// both must accept, reject and store the same things.
enum TreeSegmentNormalizer {
    /// A message as the tree normalizer stored it: the same fields as `NormalizedMessage`, the payload a tree.
    struct TreeMessage {
        var index: Int
        var type: SegmentMessageType
        var messageID: String
        var stream: String
        var occurredAt: Date
        var payload: JSONValue
    }

    /// The outcome of normalizing one request.
    struct Result {
        var accepted: [TreeMessage]
        var rejected: [RejectedMessage]
        var bodyWriteKey: String?
    }

    /// Validates and normalizes a request body.
    ///
    /// - Throws: `IngestionError` for problems of the whole request: a wrong top-level shape, a message over 32 KB as
    ///   sent or with what it inherits, or more than 2 MB to store. Problems of single messages of a batch are returned
    ///   as `rejected`.
    static func normalize(_ body: JSONValue, endpoint: SegmentEndpoint, receivedAt: Date) throws(IngestionError) -> Result {
        guard case .object(var top) = body else {
            throw IngestionError.badRequestForOracle("invalid_body", "the body must be a JSON object")
        }
        let bodyWriteKey = top["writeKey"]?.stringValue
        top["writeKey"] = nil
        switch endpoint {
        case .single(let type):
            let size = JSONValue.object(top).serializedSize
            guard size <= SegmentNormalizer.maximumMessageBytes else {
                throw IngestionError.badRequestForOracle(
                    "message_too_large", "the message is \(size) bytes; the limit is \(SegmentNormalizer.maximumMessageBytes) bytes (32 KB) per message")
            }
            switch normalizeMessage(top, index: 0, expectedType: type, batch: nil, receivedAt: receivedAt) {
            case .accepted(let message, let inherited):
                try checkStoredSize(sent: size, inherited: inherited, index: nil)
                return Result(accepted: [message], rejected: [], bodyWriteKey: bodyWriteKey)
            case .rejected(let rejection):
                // A single-message request has nothing else to store: the whole request is invalid.
                throw IngestionError.badRequestForOracle("invalid_message", rejection.reason)
            }
        case .batch:
            guard let batchValue = top["batch"] else {
                throw IngestionError.badRequestForOracle("invalid_body", "a batch request needs a \"batch\" array of messages")
            }
            guard case .array(let messages) = batchValue else {
                throw IngestionError.badRequestForOracle("invalid_body", "\"batch\" must be an array of messages")
            }
            if let context = top["context"], context.objectValue == nil, !context.isNull {
                throw IngestionError.badRequestForOracle("invalid_body", "the batch's \"context\" must be an object")
            }
            if let integrations = top["integrations"], integrations.objectValue == nil, !integrations.isNull {
                throw IngestionError.badRequestForOracle("invalid_body", "the batch's \"integrations\" must be an object")
            }
            let batch = BatchDefaults(
                context: top["context"]?.objectValue, integrations: top["integrations"]?.objectValue,
                sentAt: top["sentAt"]?.stringValue)
            var result = Result(accepted: [], rejected: [], bodyWriteKey: bodyWriteKey)
            var storedBytes = 0
            for (index, raw) in messages.enumerated() {
                let size = raw.serializedSize
                guard size <= SegmentNormalizer.maximumMessageBytes else {
                    throw IngestionError.badRequestForOracle(
                        "message_too_large",
                        "message \(index) is \(size) bytes; the limit is \(SegmentNormalizer.maximumMessageBytes) bytes (32 KB) per message")
                }
                if case .object(var message) = raw {
                    message["writeKey"] = nil
                    switch normalizeMessage(message, index: index, expectedType: nil, batch: batch, receivedAt: receivedAt) {
                    case .accepted(let normalized, let inherited):
                        try checkStoredSize(sent: size, inherited: inherited, index: index)
                        storedBytes += normalized.payload.serializedSize
                        result.accepted.append(normalized)
                    case .rejected(let rejection):
                        storedBytes += size + rejection.reason.utf8.count
                        result.rejected.append(rejection)
                    }
                } else {
                    let rejection = RejectedMessage(index: index, messageId: nil, reason: "the message is not a JSON object", message: raw)
                    storedBytes += size + rejection.reason.utf8.count
                    result.rejected.append(rejection)
                }
                guard storedBytes <= SegmentNormalizer.maximumStoredRequestBytes else {
                    throw IngestionError.badRequestForOracle(
                        "request_too_large",
                        "the messages up to message \(index) are \(storedBytes) bytes as stored (accepted ones with the batch's "
                            + "context, integrations and sentAt merged in, rejected ones with their reasons); the limit is "
                            + "\(SegmentNormalizer.maximumStoredRequestBytes) bytes (2 MB) per request: send fewer messages per request, or a smaller batch context")
                }
            }
            return result
        }
    }

    /// Refuses a message whose size as sent plus what it inherits exceeds 32 KB (the rule of `SegmentNormalizer`).
    static func checkStoredSize(sent: Int, inherited: Int, index: Int?) throws(IngestionError) {
        let size = sent + inherited
        guard size > SegmentNormalizer.maximumMessageBytes else { return }
        let which = index.map { "message \($0)" } ?? "the message"
        throw IngestionError.badRequestForOracle(
            "message_too_large",
            "\(which) is \(size) bytes as stored (\(sent) as sent, \(inherited) inherited from the batch's context, "
                + "integrations and sentAt or copied from context.traits); the limit is \(SegmentNormalizer.maximumMessageBytes) bytes (32 KB) per message")
    }

    /// What became of one message.
    enum MessageOutcome {
        /// Normalized, with the bytes it inherited from its batch or copied from its context.
        case accepted(TreeMessage, inheritedBytes: Int)
        case rejected(RejectedMessage)
    }

    struct BatchDefaults {
        var context: [String: JSONValue]?
        var integrations: [String: JSONValue]?
        var sentAt: String?
    }

    static func normalizeMessage(
        _ input: [String: JSONValue], index: Int, expectedType: SegmentMessageType?, batch: BatchDefaults?, receivedAt: Date
    ) -> MessageOutcome {
        var message = input
        var suppliedID = message["messageId"]?.identifierValue
        func reject(_ reason: String) -> MessageOutcome {
            .rejected(RejectedMessage(index: index, messageId: suppliedID, reason: reason, message: .object(input)))
        }
        if let id = suppliedID, id.utf8.count > SegmentNormalizer.maximumIdentifierBytes {
            suppliedID = nil
            return reject(Self.overlong("messageId", id))
        }

        // Type: from the endpoint, or from the message in a batch.
        let type: SegmentMessageType
        if let expectedType {
            type = expectedType
        } else {
            guard let name = message["type"]?.stringValue else { return reject("\"type\" is required in a batch message") }
            guard let parsed = SegmentMessageType(rawValue: name.lowercased()) else {
                return reject("\"type\" must be one of identify, track, page, screen, group, alias (got \"\(name.prefix(64))\")")
            }
            type = parsed
        }
        message["type"] = .string(type.rawValue)

        // Objects.
        for field in ["context", "integrations", "traits", "properties"] {
            if let value = message[field] {
                if value.isNull {
                    message[field] = nil
                } else if value.objectValue == nil {
                    return reject("\"\(field)\" must be an object")
                }
            }
        }
        // Batch-level context and integrations apply to every message; the message's own keys win.
        var inherited = 0
        if let batch {
            for (field, defaults) in [("context", batch.context), ("integrations", batch.integrations)] {
                guard let defaults, !defaults.isEmpty else { continue }
                let own = message[field]?.objectValue
                for (key, value) in defaults where own?[key] == nil {
                    inherited += JSONValue.string(key).serializedSize + 1 + value.serializedSize + 1
                }
                if own == nil { inherited += field.utf8.count + 5 }
                var merged = defaults
                for (key, value) in message[field]?.objectValue ?? [:] { merged[key] = value }
                message[field] = .object(merged)
            }
        }

        // Identities: strings or numbers; null means absent.
        var identities: [String: String] = [:]
        for field in ["userId", "anonymousId", "previousId", "groupId"] {
            guard let value = message[field] else { continue }
            if value.isNull || value.stringValue?.isBlankText == true {
                message[field] = nil
                continue
            }
            guard let identifier = value.identifierValue else { return reject("\"\(field)\" must be a string") }
            guard identifier.utf8.count <= SegmentNormalizer.maximumIdentifierBytes else { return reject(Self.overlong(field, identifier)) }
            message[field] = .string(identifier)
            identities[field] = identifier
        }
        switch type {
        case .alias:
            guard identities["userId"] != nil else { return reject("an alias call needs \"userId\"") }
            guard identities["previousId"] != nil else { return reject("an alias call needs \"previousId\"") }
        default:
            guard identities["userId"] != nil || identities["anonymousId"] != nil else {
                return reject("\"userId\" or \"anonymousId\" is required")
            }
        }
        switch type {
        case .track:
            guard let event = message["event"]?.stringValue, !event.isBlankText else {
                return reject("a track call needs a non-empty \"event\"")
            }
        case .group:
            guard identities["groupId"] != nil else { return reject("a group call needs \"groupId\"") }
        case .identify:
            // RudderStack's server SDKs send identify traits only in context.traits.
            if message["traits"] == nil, let contextTraits = message["context"]?["traits"], contextTraits.objectValue != nil {
                message["traits"] = contextTraits
                inherited += contextTraits.serializedSize + 10
            }
        case .page, .screen, .alias:
            break
        }

        // Timestamps and Segment's clock-skew correction: timestamp = receivedAt − (sentAt − timestamp).
        var timestamp: Date?
        if let value = message["timestamp"], !value.isNull {
            guard let text = value.stringValue, let parsed = ISO8601Timestamp.parse(text) else {
                return reject("\"timestamp\" must be an ISO 8601 date-time with a time zone")
            }
            timestamp = parsed
        }
        var sentAt: Date?
        let sentAtText: String? = message["sentAt"]?.stringValue ?? batch?.sentAt
        if let sentAtText {
            guard let parsed = ISO8601Timestamp.parse(sentAtText) else {
                return reject("\"sentAt\" must be an ISO 8601 date-time with a time zone")
            }
            sentAt = parsed
            if message["sentAt"]?.stringValue == nil { inherited += sentAtText.utf8.count + 12 }
            message["sentAt"] = .string(sentAtText)
        } else if let value = message["sentAt"], !value.isNull {
            return reject("\"sentAt\" must be an ISO 8601 date-time with a time zone")
        }
        let occurredAt: Date
        if let timestamp {
            if let sentAt {
                occurredAt = receivedAt.addingTimeInterval(-sentAt.timeIntervalSince(timestamp))
                if message["originalTimestamp"] == nil { message["originalTimestamp"] = message["timestamp"] }
            } else {
                occurredAt = timestamp
            }
        } else {
            occurredAt = receivedAt
        }
        guard ISO8601Timestamp.isStorable(occurredAt) else {
            return reject("\"timestamp\" (corrected for clock skew with \"sentAt\") must fall between the years 1 and 9999")
        }
        message["timestamp"] = .string(ISO8601Timestamp.format(occurredAt))
        message["receivedAt"] = .string(ISO8601Timestamp.format(receivedAt))
        let messageID = suppliedID ?? "hubsignal-" + UUID().uuidString.lowercased()
        message["messageId"] = .string(messageID)

        let stream: String
        if let userID = identities["userId"] {
            stream = "user:" + userID
        } else {
            stream = "anonymous:" + identities["anonymousId"]!
        }
        return .accepted(
            TreeMessage(
                index: index, type: type, messageID: messageID, stream: stream, occurredAt: occurredAt, payload: .object(message)),
            inheritedBytes: inherited)
    }

    static func overlong(_ field: String, _ value: String) -> String {
        "\"\(field)\" is \(value.utf8.count) bytes; the limit is \(SegmentNormalizer.maximumIdentifierBytes) bytes"
    }
}

extension String {
    /// `Ingestion`'s blank test (empty, or only spaces and tabs).
    fileprivate var isBlankText: Bool { trimmingCharacters(in: .whitespaces).isEmpty }
}

extension IngestionError {
    fileprivate static func badRequestForOracle(_ code: String, _ message: String) -> IngestionError {
        IngestionError(status: 400, code: code, message: message)
    }
}
