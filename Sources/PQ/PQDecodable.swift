import Foundation

/// A Swift type that can be decoded from a column of a query result (results arrive in PostgreSQL's text format).
public protocol PQDecodable: Sendable {
    /// Decodes a non-`NULL` value from its text representation.
    ///
    /// - Parameters:
    ///   - bytes: the value's text, valid only during this call.
    ///   - typeOID: the column's type OID.
    init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws

    /// The value for SQL `NULL`; throws for non-optional types.
    static func pqDecodeNull() throws -> Self
}

extension PQDecodable {
    public static func pqDecodeNull() throws -> Self {
        throw PQDecodingFailure.unexpectedNull
    }
}

/// Why a value could not be decoded; wrapped into a `PQError` that names the column.
public enum PQDecodingFailure: Error, Sendable {
    case unexpectedNull
    case invalidText(expected: String)
}

extension Optional: PQDecodable where Wrapped: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        self = .some(try Wrapped(pqText: bytes, typeOID: typeOID))
    }
    public static func pqDecodeNull() throws -> Self { nil }
}

extension String: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        self = String(decoding: bytes, as: UTF8.self)
    }
}

/// Parses a decimal integer from ASCII without allocating.
@inline(__always)
func parseInteger<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, as type: T.Type) -> T? {
    guard !bytes.isEmpty else { return nil }
    var index = 0
    var negative = false
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        index = 1
    } else if bytes[0] == UInt8(ascii: "+") {
        index = 1
    }
    guard index < bytes.count else { return nil }
    var value: T = 0
    while index < bytes.count {
        let digit = bytes[index] &- UInt8(ascii: "0")
        guard digit < 10 else { return nil }
        let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
        let (added, overflow2) =
            negative
            ? multiplied.subtractingReportingOverflow(T(digit)) : multiplied.addingReportingOverflow(T(digit))
        guard !overflow1, !overflow2 else { return nil }
        value = added
        index += 1
    }
    return value
}

extension Int64: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = parseInteger(bytes, as: Int64.self) else { throw PQDecodingFailure.invalidText(expected: "Int64") }
        self = value
    }
}

extension Int: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = parseInteger(bytes, as: Int.self) else { throw PQDecodingFailure.invalidText(expected: "Int") }
        self = value
    }
}

extension Int32: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = parseInteger(bytes, as: Int32.self) else { throw PQDecodingFailure.invalidText(expected: "Int32") }
        self = value
    }
}

extension Int16: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = parseInteger(bytes, as: Int16.self) else { throw PQDecodingFailure.invalidText(expected: "Int16") }
        self = value
    }
}

extension UInt64: PQDecodable {
    /// Decodes unsigned integers, such as `xid8` transaction ids.
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = parseInteger(bytes, as: UInt64.self) else { throw PQDecodingFailure.invalidText(expected: "UInt64") }
        self = value
    }
}

extension Bool: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard bytes.count == 1 else { throw PQDecodingFailure.invalidText(expected: "Bool") }
        switch bytes[0] {
        case UInt8(ascii: "t"): self = true
        case UInt8(ascii: "f"): self = false
        default: throw PQDecodingFailure.invalidText(expected: "Bool")
        }
    }
}

extension Double: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        let text = String(decoding: bytes, as: UTF8.self)
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw PQDecodingFailure.invalidText(expected: "Double") }
            self = value
        }
    }
}

extension UUID: PQDecodable {
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let value = UUID(uuidString: String(decoding: bytes, as: UTF8.self)) else {
            throw PQDecodingFailure.invalidText(expected: "UUID")
        }
        self = value
    }
}

extension PQBytes: PQDecodable {
    /// Decodes `bytea` in hex output format (`\x0a0b…`, the default since PostgreSQL 9.0; the client sets it).
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard bytes.count >= 2, bytes.count % 2 == 0, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x") else {
            throw PQDecodingFailure.invalidText(expected: "bytea in hex format")
        }
        var result = [UInt8]()
        result.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = hexValue(bytes[index]), let low = hexValue(bytes[index + 1]) else {
                throw PQDecodingFailure.invalidText(expected: "bytea in hex format")
            }
            result.append(high << 4 | low)
            index += 2
        }
        self.bytes = result
    }
}

@inline(__always)
private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

extension Data: PQDecodable {
    /// Decodes `bytea`.
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        self = Data(try PQBytes(pqText: bytes, typeOID: typeOID).bytes)
    }
}

extension PQJSONB: PQDecodable {
    /// Decodes `json` or `jsonb` (or any text) as JSON text.
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        self.bytes = Array(bytes)
    }
}

extension Date: PQDecodable {
    /// Decodes `timestamptz` (any `TimeZone`, ISO `DateStyle`), `timestamp` (taken as UTC) and `date` (midnight UTC).
    /// `infinity` and `-infinity` become `Date.distantFuture` and `Date.distantPast`.
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        guard let date = PQTimestamp.parse(bytes) else { throw PQDecodingFailure.invalidText(expected: "timestamp in ISO format") }
        self = date
    }
}

extension PQTimestamp {
    /// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][±HH[:MM[:SS]]]`.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Date? {
        if bytes.count == 8, String(decoding: bytes, as: UTF8.self) == "infinity" { return .distantFuture }
        if bytes.count == 9, String(decoding: bytes, as: UTF8.self) == "-infinity" { return .distantPast }
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit < 10 else { return nil }
                value = value * 10 + digit
                index += 1
            }
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        // Years may have more than four digits.
        var yearDigits = 0
        while index + yearDigits < bytes.count, bytes[index + yearDigits] >= 48, bytes[index + yearDigits] <= 57 { yearDigits += 1 }
        guard yearDigits >= 4, let year = number(yearDigits), expect("-"), let month = number(2), expect("-"), let day = number(2)
        else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "T") {
            index += 1
            guard let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2) else { return nil }
            seconds += Double(hour * 3600 + minute * 60 + second)
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                var fraction = 0
                var scale = 1
                while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                    if scale < 1_000_000 {
                        fraction = fraction * 10 + Int(bytes[index]) - 48
                        scale *= 10
                    }
                    index += 1
                }
                seconds += Double(fraction) / Double(scale)
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                index += 1
                guard let offsetHours = number(2) else { return nil }
                var offset = offsetHours * 3600
                if expect(":") {
                    guard let offsetMinutes = number(2) else { return nil }
                    offset += offsetMinutes * 60
                    if expect(":") {
                        guard let offsetSeconds = number(2) else { return nil }
                        offset += offsetSeconds
                    }
                }
                seconds -= Double(sign * offset)
            }
        }
        if index != bytes.count {
            // " BC" dates and other styles are not supported.
            return nil
        }
        return Date(timeIntervalSince1970: seconds)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

extension Array: PQDecodable where Element: PQDecodable {
    /// Decodes a one-dimensional array from its text form (`{a,"b c",NULL}`).
    public init(pqText bytes: UnsafeRawBufferPointer, typeOID: UInt32) throws {
        self = try PQArrayText.parse(bytes).map { element in
            guard let element else { return try Element.pqDecodeNull() }
            return try element.withUnsafeBytes { try Element(pqText: $0, typeOID: 0) }
        }
    }
}

enum PQArrayText {
    /// Splits the text form of a one-dimensional array into its elements' texts (`nil` for `NULL`).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> [[UInt8]?] {
        var index = 0
        // Skip optional dimension decoration such as "[0:2]=".
        if index < bytes.count, bytes[index] == UInt8(ascii: "[") {
            while index < bytes.count, bytes[index] != UInt8(ascii: "=") { index += 1 }
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{"), bytes[bytes.count - 1] == UInt8(ascii: "}") else {
            throw PQDecodingFailure.invalidText(expected: "array")
        }
        index += 1
        let end = bytes.count - 1
        var elements: [[UInt8]?] = []
        if index == end { return elements }
        while index <= end {
            var element: [UInt8] = []
            var quoted = false
            if bytes[index] == UInt8(ascii: "{") { throw PQDecodingFailure.invalidText(expected: "one-dimensional array") }
            if bytes[index] == UInt8(ascii: "\"") {
                quoted = true
                index += 1
                while index < end, bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == UInt8(ascii: "\\") { index += 1 }
                    guard index < end else { throw PQDecodingFailure.invalidText(expected: "array") }
                    element.append(bytes[index])
                    index += 1
                }
                index += 1  // closing quote
            } else {
                while index < end, bytes[index] != UInt8(ascii: ",") {
                    element.append(bytes[index])
                    index += 1
                }
            }
            if !quoted, element == Array("NULL".utf8) {
                elements.append(nil)
            } else {
                elements.append(element)
            }
            // Now at ',' or at the closing brace.
            index += 1
        }
        return elements
    }
}
