/// Encodes an `Encodable` value into a `JSONValue` tree, which `JSONValue.serialized()` then writes.
///
/// Integers become `.int` (an unsigned value above `Int64.max` throws), floating-point numbers `.double`, a nested
/// `JSONValue` is kept as it is, and an optional encoded with `encodeIfPresent` (what synthesized conformances use) is
/// left out when `nil`.
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// The value as a JSON tree.
    public func encode(_ value: some Encodable) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let node = EncodingNode()
        try value.encode(to: TreeEncoder(node: node, codingPath: []))
        return node.value
    }
}

/// A place in the tree being built: empty until a container or a value is written into it.
private final class EncodingNode {
    enum Content {
        case empty
        case value(JSONValue)
        case object([String: EncodingNode])
        case array([EncodingNode])
    }

    var content = Content.empty

    /// The finished tree; a node nothing was written into is an empty object (as `JSONEncoder` does).
    var value: JSONValue {
        switch content {
        case .empty: return .object([:])
        case .value(let value): return value
        case .object(let members): return .object(members.mapValues(\.value))
        case .array(let elements): return .array(elements.map(\.value))
        }
    }

    func member(_ key: String) -> EncodingNode {
        var members: [String: EncodingNode] = [:]
        if case .object(let existing) = content { members = existing }
        let node = EncodingNode()
        members[key] = node
        content = .object(members)
        return node
    }

    func makeObject() {
        if case .object = content { return }
        content = .object([:])
    }

    func makeArray() {
        if case .array = content { return }
        content = .array([])
    }

    func append() -> EncodingNode {
        var elements: [EncodingNode] = []
        if case .array(let existing) = content { elements = existing }
        let node = EncodingNode()
        elements.append(node)
        content = .array(elements)
        return node
    }

    var count: Int {
        if case .array(let elements) = content { return elements.count }
        return 0
    }
}

private struct TreeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.makeObject()
        return KeyedEncodingContainer(KeyedTreeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.makeArray()
        return UnkeyedTreeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleValueTreeContainer(node: node, codingPath: codingPath)
    }
}

/// Writes `value` into `node`: scalars directly, anything else through its own `encode(to:)`.
private func encode(_ value: some Encodable, into node: EncodingNode, codingPath: [any CodingKey]) throws {
    switch value {
    case let json as JSONValue: node.content = .value(json)
    case let text as String: node.content = .value(.string(text))
    case let flag as Bool: node.content = .value(.bool(flag))
    case let number as Int: node.content = .value(.int(Int64(number)))
    case let number as Int64: node.content = .value(.int(number))
    case let number as Double: node.content = .value(.double(number))
    default: try value.encode(to: TreeEncoder(node: node, codingPath: codingPath))
    }
}

private func integer(_ value: some BinaryInteger, codingPath: [any CodingKey]) throws -> JSONValue {
    guard let number = Int64(exactly: value) else {
        throw EncodingError.invalidValue(value, EncodingError.Context(codingPath: codingPath, debugDescription: "\(value) does not fit Int64"))
    }
    return .int(number)
}

private struct KeyedTreeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.member(key.stringValue).content = .value(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.member(key.stringValue).content = .value(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.member(key.stringValue).content = .value(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.member(key.stringValue).content = .value(.double(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.member(key.stringValue).content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.member(key.stringValue).content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { node.member(key.stringValue).content = .value(.int(value)) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try encodeInteger(value, forKey: key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try encodeInteger(value, forKey: key) }

    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        try Domain.encode(value, into: node.member(key.stringValue), codingPath: codingPath + [key])
    }

    private func encodeInteger(_ value: some BinaryInteger, forKey key: Key) throws {
        let number = try integer(value, codingPath: codingPath + [key])
        node.member(key.stringValue).content = .value(number)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = node.member(key.stringValue)
        child.makeObject()
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = node.member(key.stringValue)
        child.makeArray()
        return UnkeyedTreeContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        TreeEncoder(node: node.member("super"), codingPath: codingPath + [TreeKey("super")])
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedTreeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.count }

    private var nextKey: TreeKey { TreeKey(index: node.count) }

    mutating func encodeNil() throws { node.append().content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.append().content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.append().content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.append().content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.append().content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.append().content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int16) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int32) throws { try encodeInteger(value) }
    mutating func encode(_ value: Int64) throws { node.append().content = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt8) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt16) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt32) throws { try encodeInteger(value) }
    mutating func encode(_ value: UInt64) throws { try encodeInteger(value) }

    mutating func encode(_ value: some Encodable) throws {
        let key = nextKey
        try Domain.encode(value, into: node.append(), codingPath: codingPath + [key])
    }

    private func encodeInteger(_ value: some BinaryInteger) throws {
        let number = try integer(value, codingPath: codingPath + [nextKey])
        node.append().content = .value(number)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let key = nextKey
        let child = node.append()
        child.makeObject()
        return KeyedEncodingContainer(KeyedTreeContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let key = nextKey
        let child = node.append()
        child.makeArray()
        return UnkeyedTreeContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let key = nextKey
        return TreeEncoder(node: node.append(), codingPath: codingPath + [key])
    }
}

private struct SingleValueTreeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { node.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { node.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { node.content = .value(.double(value)) }
    mutating func encode(_ value: Float) throws { node.content = .value(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { node.content = .value(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int16) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int32) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: Int64) throws { node.content = .value(.int(value)) }
    mutating func encode(_ value: UInt) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt8) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt16) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt32) throws { node.content = .value(try integer(value, codingPath: codingPath)) }
    mutating func encode(_ value: UInt64) throws { node.content = .value(try integer(value, codingPath: codingPath)) }

    mutating func encode(_ value: some Encodable) throws {
        try Domain.encode(value, into: node, codingPath: codingPath)
    }
}

/// A coding key for array indexes and `super`.
struct TreeKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}
