/// Decodes a `Decodable` value from a `JSONValue` tree, e.g. a payload `JSONValue.parse` has already parsed.
///
/// Strict about types: a string is decoded only from a JSON string, a `Bool` only from `true`/`false`, an integer from
/// a JSON integer (or a whole `Double` in range); a member typed `JSONValue` takes whatever is there. Throws
/// `DecodingError` with the coding path.
public struct JSONValueDecoder: Sendable {
    public init() {}

    /// The value decoded from `json`.
    public func decode<Value: Decodable>(_ type: Value.Type = Value.self, from json: JSONValue) throws -> Value {
        try decodeValue(type, from: json, codingPath: [])
    }
}

private func decodeValue<Value: Decodable>(_ type: Value.Type, from json: JSONValue, codingPath: [any CodingKey]) throws -> Value {
    if Value.self == JSONValue.self { return json as! Value }
    if Value.self == String.self {
        guard case .string(let text) = json else { throw mismatch(type, json, codingPath) }
        return text as! Value
    }
    return try Value(from: TreeDecoder(json: json, codingPath: codingPath))
}

private func mismatch(_ type: Any.Type, _ json: JSONValue, _ codingPath: [any CodingKey]) -> DecodingError {
    let found: String
    switch json {
    case .null: found = "null"
    case .bool: found = "a boolean"
    case .int, .double: found = "a number"
    case .string: found = "a string"
    case .array: found = "an array"
    case .object: found = "an object"
    }
    if json == .null {
        return .valueNotFound(type, DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(type), found null"))
    }
    return .typeMismatch(type, DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(type), found \(found)"))
}

/// The scalar decodings every container shares.
private enum Scalar {
    static func bool(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> Bool {
        guard case .bool(let flag) = json else { throw mismatch(Bool.self, json, codingPath) }
        return flag
    }

    static func string(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> String {
        guard case .string(let text) = json else { throw mismatch(String.self, json, codingPath) }
        return text
    }

    static func double(_ json: JSONValue, _ codingPath: [any CodingKey]) throws -> Double {
        switch json {
        case .double(let number): return number
        case .int(let number): return Double(number)
        default: throw mismatch(Double.self, json, codingPath)
        }
    }

    static func integer<Number: FixedWidthInteger>(_ type: Number.Type, _ json: JSONValue, _ codingPath: [any CodingKey]) throws -> Number {
        let result: Number?
        switch json {
        case .int(let number): result = Number(exactly: number)
        case .double(let number): result = Number(exactly: number)
        default: throw mismatch(type, json, codingPath)
        }
        guard let result else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: "\(json) does not fit \(type)"))
        }
        return result
    }
}

private struct TreeDecoder: Decoder {
    let json: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = json else { throw mismatch([String: JSONValue].self, json, codingPath) }
        return KeyedDecodingContainer(KeyedTreeDecodingContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = json else { throw mismatch([JSONValue].self, json, codingPath) }
        return UnkeyedTreeDecodingContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueTreeDecodingContainer(json: json, codingPath: codingPath)
    }
}

private struct KeyedTreeDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let json = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, DecodingError.Context(codingPath: codingPath, debugDescription: "no member '\(key.stringValue)'"))
        }
        return json
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Scalar.bool(member(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Scalar.string(member(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Scalar.double(member(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Scalar.double(member(key), codingPath + [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Scalar.integer(type, member(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Scalar.integer(type, member(key), codingPath + [key]) }

    func decode<Value: Decodable>(_ type: Value.Type, forKey key: Key) throws -> Value {
        try decodeValue(type, from: member(key), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try TreeDecoder(json: member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try TreeDecoder(json: member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        TreeDecoder(json: members["super"] ?? .null, codingPath: codingPath + [TreeKey("super")])
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        TreeDecoder(json: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeDecodingContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next<Value>(_ decode: (JSONValue, [any CodingKey]) throws -> Value) throws -> Value {
        let key = TreeKey(index: currentIndex)
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                Value.self, DecodingError.Context(codingPath: codingPath + [key], debugDescription: "the array has no more elements"))
        }
        let value = try decode(elements[currentIndex], codingPath + [key])
        currentIndex += 1
        return value
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(Scalar.bool) }
    mutating func decode(_ type: String.Type) throws -> String { try next(Scalar.string) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(Scalar.double) }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try next(Scalar.double)) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next { try Scalar.integer(type, $0, $1) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next { try Scalar.integer(type, $0, $1) } }

    mutating func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try next { try decodeValue(type, from: $0, codingPath: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next { try TreeDecoder(json: $0, codingPath: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next { try TreeDecoder(json: $0, codingPath: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        try next { TreeDecoder(json: $0, codingPath: $1) }
    }
}

private struct SingleValueTreeDecodingContainer: SingleValueDecodingContainer {
    let json: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { json == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try Scalar.bool(json, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Scalar.string(json, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Scalar.double(json, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Scalar.double(json, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Scalar.integer(type, json, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Scalar.integer(type, json, codingPath) }

    func decode<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try decodeValue(type, from: json, codingPath: codingPath)
    }
}
