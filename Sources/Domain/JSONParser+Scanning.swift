/// Reading JSON without building it: `scanValue()` validates a value exactly as `parseValue()` does (the same grammar,
/// limits and failures, at the same offsets) and builds nothing; `forEachMember` and `forEachElement` walk one object
/// or array and leave each value to the caller, who parses, scans or records it. The Segment normalizer reads requests
/// this way and copies the bytes of everything it does not change.
extension JSONParser {
    /// The byte at the current position; `nil` at the end of the input.
    package var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Validates one value without building it.
    package mutating func scanValue() throws(Failure) {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): try forEachMember(decodingNames: false) { parser, _, _ throws(Failure) in try parser.scanValue() }
        case UInt8(ascii: "["): try forEachElement { parser throws(Failure) in try parser.scanValue() }
        case UInt8(ascii: "\""): try scanString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try scanNumber()
        default: throw fail("unexpected character")
        }
    }

    /// Walks the object at the current byte (`{`). For each member, `body` gets the parser positioned at the value,
    /// the member's decoded name (empty when `decodingNames` is false) and the offset of the name's opening quote; it
    /// must consume exactly the value (with `parseValue`, `scanValue` or a walk of its own).
    package mutating func forEachMember(
        decodingNames: Bool = true, _ body: (inout JSONParser, _ name: String, _ memberStart: Int) throws(Failure) -> Void
    ) throws(Failure) {
        try enter()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
            let memberStart = index
            var name = ""
            if decodingNames { name = try parseString() } else { try scanString() }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipWhitespace()
            try body(&self, name, memberStart)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            index += 1
            depth -= 1
            return
        }
    }

    /// Walks the array at the current byte (`[`); `body` must consume exactly one element each time.
    package mutating func forEachElement(_ body: (inout JSONParser) throws(Failure) -> Void) throws(Failure) {
        try enter()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return
        }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            index += 1
            depth -= 1
            return
        }
    }

    /// Validates a string. Strings with escapes (rare) are checked by decoding them with `parseString()`.
    package mutating func scanString() throws(Failure) {
        let quote = index
        index += 1
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if !ascii, !UTF8Validation.isValid(UnsafeBufferPointer(rebasing: bytes[(quote + 1)..<index])) {
                    throw Failure(reason: "invalid UTF-8 in a string", offset: quote + 1)
                }
                index += 1
                return
            }
            if byte == UInt8(ascii: "\\") {
                index = quote
                _ = try parseString()
                return
            }
            if byte < 0x20 { throw fail("control character in a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        throw fail("unterminated string")
    }

    /// Validates a number. A number without an exponent and of at most 300 characters is always within `Double`'s
    /// range; anything else gets `parseNumber()`'s range check.
    package mutating func scanNumber() throws(Failure) {
        let start = index
        let form = try skipNumber()
        if !form.hasExponent && index - start <= 300 { return }
        index = start
        _ = try parseNumber()
    }
}

/// UTF-8 validation without building a `String`: the well-formed byte sequences of the Unicode standard (table 3-7),
/// so no overlong forms, no surrogates, nothing above U+10FFFF — what `String(validating:as:)` accepts.
package enum UTF8Validation {
    package static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
                index + offset < count && range.contains(bytes[index + offset])
            }
            switch lead {
            case 0xC2...0xDF:
                guard continuation(1) else { return false }
                index += 2
            case 0xE0:
                guard continuation(1, 0xA0...0xBF), continuation(2) else { return false }
                index += 3
            case 0xE1...0xEC, 0xEE...0xEF:
                guard continuation(1), continuation(2) else { return false }
                index += 3
            case 0xED:
                guard continuation(1, 0x80...0x9F), continuation(2) else { return false }
                index += 3
            case 0xF0:
                guard continuation(1, 0x90...0xBF), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF1...0xF3:
                guard continuation(1), continuation(2), continuation(3) else { return false }
                index += 4
            case 0xF4:
                guard continuation(1, 0x80...0x8F), continuation(2), continuation(3) else { return false }
                index += 4
            default:
                return false
            }
        }
        return true
    }
}
