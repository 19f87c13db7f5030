import Foundation

/// A JSON value, for payloads whose shape is only partly known (Segment messages, webhook bodies). Parsed and written
/// by `JSONParser` and `JSONWriter` (strict, and much faster than `Codable` probing for an untyped tree).
///
/// Integers that fit `Int64` stay integers; other numbers are `Double`. Object key order is not kept (PostgreSQL's
/// `jsonb` does not keep it either).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text strictly: valid UTF-8, no `\u0000` or lone surrogates (PostgreSQL's `jsonb` refuses them),
    /// at most 64 levels of nesting.
    ///
    /// - Throws: an error whose description names the problem and its byte offset.
    public static func parse(_ bytes: some Sequence<UInt8>) throws -> JSONValue {
        let parsed = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONParser.Failure) -> JSONValue in try JSONParser.parse(buffer) }
        }
        if let parsed { return try parsed.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer in try JSONParser.parse(buffer) }
    }

    /// Parses JSON that was validated before (e.g. `jsonb` read back from PostgreSQL), building inside the top-level
    /// object member `member` only the members named in `keep` (e.g. of a Segment message's `context`, only `traits`
    /// and `personas`); everything else is parsed as usual.
    public static func parse(_ bytes: [UInt8], pruning member: String, keeping keep: Set<String>) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer in try JSONParser.parse(buffer, pruning: member, keeping: keep) }
    }

    /// Compact JSON text.
    public func serialized() throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONWriter.write(self, into: &output)
        return output
    }

    /// The size of `serialized()` in bytes, computed without writing it.
    public var serializedSize: Int {
        JSONWriter.size(of: self)
    }

    /// The object's members, or `nil` if this is not an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let values) = self { return values }
        return nil
    }

    /// The elements, or `nil` if this is not a list.
    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The string, or `nil` if this is not a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }

    /// An identifier given as a string or a number (SDKs send both), as a string; `nil` for anything else or blank.
    public var identifierValue: String? {
        switch self {
        case .string(let value):
            return value.isBlank ? nil : value
        case .int(let value): return String(value)
        case .double(let value) where value.rounded() == value && abs(value) < 1e15: return String(Int64(value))
        default: return nil
        }
    }

    /// The member `key` of an object, or `nil`.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }
}

extension JSONValue {
    /// Text of a plain value (string, number, boolean) as HubSpot and OneSignal take it; `nil` for null, lists and objects.
    /// Whole doubles below 10¹⁵ are written without a fraction (`3.0` → `3`).
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number):
            guard number.isFinite else { return nil }
            if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
            return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .null, .array, .object: return nil
        }
    }
}

extension String {
    /// Whether the string is empty or only spaces and tabs (Unicode's `whitespaces`, as `trimmingCharacters(in:)` sees
    /// them). Any ASCII byte other than a space or a tab decides it without a Foundation call.
    package var isBlank: Bool {
        if utf8.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 < 0x80 }) { return false }
        return trimmingCharacters(in: .whitespaces).isEmpty
    }
}
