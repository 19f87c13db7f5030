import Foundation

/// A Swift value that can be sent to PostgreSQL as a bind parameter.
public protocol PQEncodable: Sendable {
    /// The value encoded for the wire.
    var pqParameter: PQParameter { get }
}

/// A value that can be an element of an array parameter, sent in PostgreSQL's binary array format.
public protocol PQArrayElement: PQEncodable {
    /// The element type's OID (for example `text`).
    static var pqElementTypeOID: UInt32 { get }
    /// The array type's OID (for example `text[]`).
    static var pqArrayTypeOID: UInt32 { get }
    /// Appends the element's binary representation (without its length prefix).
    func appendPQBinary(to buffer: inout [UInt8])
}

extension String: PQArrayElement {
    public var pqParameter: PQParameter { .text(self) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.text }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.textArray }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}

extension Substring: PQEncodable {
    public var pqParameter: PQParameter { .text(String(self)) }
}

extension Int64: PQArrayElement {
    public var pqParameter: PQParameter { .text(String(self), typeOID: PQTypeOID.int8) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.int8 }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.int8Array }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}

extension Int: PQArrayElement {
    public var pqParameter: PQParameter { Int64(self).pqParameter }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.int8 }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.int8Array }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(Int64(self)) }
}

extension Int32: PQArrayElement {
    public var pqParameter: PQParameter { .text(String(self), typeOID: PQTypeOID.int4) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.int4 }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.int4Array }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(self) }
}

extension Int16: PQEncodable {
    public var pqParameter: PQParameter { .text(String(self), typeOID: PQTypeOID.int2) }
}

extension UInt64: PQEncodable {
    /// Sent as text and inferred by the server (it fits `xid8` and `numeric`, and `int8` up to `Int64.max`).
    public var pqParameter: PQParameter { .text(String(self)) }
}

extension Bool: PQArrayElement {
    public var pqParameter: PQParameter { .text(self ? "t" : "f", typeOID: PQTypeOID.bool) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.bool }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.boolArray }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.append(self ? 1 : 0) }
}

extension Double: PQArrayElement {
    public var pqParameter: PQParameter {
        let text: String
        if isNaN { text = "NaN" } else if self == .infinity { text = "Infinity" } else if self == -.infinity { text = "-Infinity" } else {
            text = "\(self)"
        }
        return .text(text, typeOID: PQTypeOID.float8)
    }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.float8 }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.float8Array }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.appendBigEndian(bitPattern) }
}

extension UUID: PQArrayElement {
    public var pqParameter: PQParameter { .text(uuidString.lowercased(), typeOID: PQTypeOID.uuid) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.uuid }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.uuidArray }
    public func appendPQBinary(to buffer: inout [UInt8]) {
        withUnsafeBytes(of: uuid) { buffer.append(contentsOf: $0) }
    }
}

extension Date: PQArrayElement {
    /// Sent as `timestamptz` with microsecond precision.
    public var pqParameter: PQParameter {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(PQTimestamp.microsecondsSincePostgresEpoch(self))
        return PQParameter(typeOID: PQTypeOID.timestamptz, format: .binary, bytes: bytes)
    }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.timestamptz }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.timestamptzArray }
    public func appendPQBinary(to buffer: inout [UInt8]) {
        buffer.appendBigEndian(PQTimestamp.microsecondsSincePostgresEpoch(self))
    }
}

extension Data: PQEncodable {
    /// Sent as `bytea` in binary format.
    public var pqParameter: PQParameter { PQParameter(typeOID: PQTypeOID.bytea, format: .binary, bytes: [UInt8](self)) }
}

/// A `bytea` value.
public struct PQBytes: PQArrayElement, Hashable {
    /// The raw bytes.
    public var bytes: [UInt8]
    /// A `bytea` value of `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var pqParameter: PQParameter { PQParameter(typeOID: PQTypeOID.bytea, format: .binary, bytes: bytes) }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.bytea }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.byteaArray }
    public func appendPQBinary(to buffer: inout [UInt8]) { buffer.append(contentsOf: bytes) }
}

/// A `jsonb` value held as its UTF-8 JSON text. Sent in binary format (a version byte and the text), so the client
/// never escapes it.
public struct PQJSONB: PQArrayElement, Hashable {
    /// The JSON text, UTF-8.
    public var bytes: [UInt8]

    /// Wraps JSON text that is already serialized.
    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps JSON text that is already serialized.
    public init(_ json: String) { self.bytes = Array(json.utf8) }

    /// Serializes an `Encodable` value with `JSONEncoder`.
    public init(encoding value: some Encodable, encoder: JSONEncoder = JSONEncoder()) throws {
        self.bytes = Array(try encoder.encode(value))
    }

    /// Decodes the JSON text into a `Decodable` type.
    public func decode<T: Decodable>(_ type: T.Type = T.self, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(bytes))
    }

    /// The JSON text as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var pqParameter: PQParameter {
        var buffer: [UInt8] = [1]
        buffer.append(contentsOf: bytes)
        return PQParameter(typeOID: PQTypeOID.jsonb, format: .binary, bytes: buffer)
    }
    public static var pqElementTypeOID: UInt32 { PQTypeOID.jsonb }
    public static var pqArrayTypeOID: UInt32 { PQTypeOID.jsonbArray }
    public func appendPQBinary(to buffer: inout [UInt8]) {
        buffer.append(1)
        buffer.append(contentsOf: bytes)
    }
}

extension Array: PQEncodable where Element: PQArrayElement {
    /// Sent as a one-dimensional array in PostgreSQL's binary array format.
    public var pqParameter: PQParameter {
        PQParameter(typeOID: Element.pqArrayTypeOID, format: .binary, bytes: PQArrayEncoder.encode(self.map { Optional($0) }))
    }
}

/// A one-dimensional array parameter whose elements may be `NULL`.
public struct PQNullableArray<Element: PQArrayElement>: PQEncodable {
    /// The elements; `nil` is `NULL`.
    public var elements: [Element?]
    /// An array parameter of `elements`.
    public init(_ elements: [Element?]) { self.elements = elements }
    public var pqParameter: PQParameter {
        PQParameter(typeOID: Element.pqArrayTypeOID, format: .binary, bytes: PQArrayEncoder.encode(elements))
    }
}

enum PQArrayEncoder {
    /// PostgreSQL's binary array format: ndim, has-null flag, element OID, (length, lower bound) per dimension, then
    /// each element as a 4-byte length (-1 for NULL) followed by its bytes.
    static func encode<Element: PQArrayElement>(_ elements: [Element?]) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(20 + elements.count * 16)
        let hasNull = elements.contains { $0 == nil }
        buffer.appendBigEndian(Int32(elements.isEmpty ? 0 : 1))
        buffer.appendBigEndian(Int32(hasNull ? 1 : 0))
        buffer.appendBigEndian(Element.pqElementTypeOID)
        if !elements.isEmpty {
            buffer.appendBigEndian(Int32(elements.count))
            buffer.appendBigEndian(Int32(1))
        }
        for element in elements {
            guard let element else {
                buffer.appendBigEndian(Int32(-1))
                continue
            }
            let lengthOffset = buffer.count
            buffer.appendBigEndian(Int32(0))
            element.appendPQBinary(to: &buffer)
            let length = UInt32(buffer.count - lengthOffset - 4)
            buffer[lengthOffset] = UInt8(truncatingIfNeeded: length >> 24)
            buffer[lengthOffset + 1] = UInt8(truncatingIfNeeded: length >> 16)
            buffer[lengthOffset + 2] = UInt8(truncatingIfNeeded: length >> 8)
            buffer[lengthOffset + 3] = UInt8(truncatingIfNeeded: length)
        }
        return buffer
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }
}

/// Conversions between `Date` and PostgreSQL's timestamp representations.
enum PQTimestamp {
    /// Seconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch).
    static let postgresEpochOffset: Double = 946_684_800

    static func microsecondsSincePostgresEpoch(_ date: Date) -> Int64 {
        Int64(((date.timeIntervalSince1970 - postgresEpochOffset) * 1_000_000).rounded())
    }
}
