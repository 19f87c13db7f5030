/// The payload of an event HubSignal writes itself, tied to its type: writers build the event from the payload
/// (`NewEvent(_:stream:idempotencyKey:…)` in EventStore), so a payload cannot be recorded under another type.
///
/// The JSON is what users query in `events.payload`: member names and value types are part of the SQL interface.
/// Keys a payload leaves out are absent, never `null`. Decoding accepts what hand-written events (tests, older logs)
/// may lack: each type documents the defaults it takes.
public protocol EventPayload: Codable, Sendable, Hashable {
    /// The type of the events carrying this payload.
    static var eventType: EventType { get }
}

extension EventPayload {
    /// Decodes the payload from an event's parsed JSON.
    public init(json: JSONValue) throws {
        self = try JSONValueDecoder().decode(Self.self, from: json)
    }

    /// The payload as a JSON tree.
    public func json() throws -> JSONValue {
        try JSONValueEncoder().encode(self)
    }

    /// The payload as compact JSON text.
    public func serialized() throws -> [UInt8] {
        try json().serialized()
    }
}

extension KeyedDecodingContainer {
    /// The member `key`, or `fallback` when it is absent or `null`.
    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key, default fallback: Value) throws -> Value {
        try decodeIfPresent(type, forKey: key) ?? fallback
    }
}

extension KeyedEncodingContainer {
    /// Writes `true`, or nothing for `false` (flags HubSignal writes only when they hold).
    mutating func encode(flag: Bool, forKey key: Key) throws {
        if flag { try encode(true, forKey: key) }
    }
}
