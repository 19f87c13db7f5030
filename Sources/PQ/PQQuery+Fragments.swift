extension PQQuery.StringInterpolation {
    /// Embeds another query as a fragment: its SQL text with its placeholders renumbered to follow this query's
    /// (`$1` of the fragment becomes `$4` after three binds), and its parameters bound after this query's.
    ///
    /// ```swift
    /// let recent: PQQuery = "occurred_at > now() - make_interval(secs => \(seconds))"
    /// let rows = try await client.query("SELECT id FROM events WHERE type = \(type) AND \(fragment: recent)")
    /// ```
    ///
    /// A fragment can be embedded several times, and fragments nest. Only real placeholders are renumbered: `$n` in
    /// string constants (`'…'`, `E'…'`, `$tag$…$tag$`), quoted identifiers, comments and identifiers such as `a$1`
    /// is text and stays as it is. The fragment's name and `isPrepared` are not used.
    ///
    /// > Precondition: every placeholder of the fragment names one of its parameters (`$1`…`$n` for `n` parameters).
    public mutating func appendInterpolation(fragment: PQQuery) {
        sql += PQQuery.renumberingPlaceholders(
            in: fragment.sql, after: parameters.count, parameterCount: fragment.parameters.count)
        parameters += fragment.parameters
    }
}

extension PQQuery {
    /// `sql` with every placeholder `$n` replaced by `$(n + offset)`, reading the text the way PostgreSQL's lexer does
    /// (with `standard_conforming_strings` on, the default) so that `$n` inside constants, quoted identifiers and
    /// comments is left alone.
    static func renumberingPlaceholders(in sql: String, after offset: Int, parameterCount: Int) -> String {
        guard sql.utf8.contains(UInt8(ascii: "$")) else { return sql }
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 8)
        var index = 0
        // Whether the last byte copied belongs to a word (an identifier, keyword or number): `$` then continues it.
        var inWord = false

        /// Copies bytes up to and including the first `terminator` not doubled (`''` in a string, `""` in an
        /// identifier), or, with `backslashEscapes`, not escaped by a backslash (`E'…'`).
        func copyQuoted(terminator: UInt8, backslashEscapes: Bool) {
            output.append(bytes[index])
            index += 1
            while index < bytes.count {
                let byte = bytes[index]
                output.append(byte)
                index += 1
                if backslashEscapes, byte == UInt8(ascii: "\\"), index < bytes.count {
                    output.append(bytes[index])
                    index += 1
                } else if byte == terminator {
                    guard index < bytes.count, bytes[index] == terminator else { return }
                    output.append(bytes[index])
                    index += 1
                }
            }
        }

        while index < bytes.count {
            let byte = bytes[index]
            let wordBefore = inWord
            inWord = false
            switch byte {
            case UInt8(ascii: "'"):
                let escaped =
                    index > 0 && (bytes[index - 1] == UInt8(ascii: "E") || bytes[index - 1] == UInt8(ascii: "e"))
                    && !(index > 1 && isIdentifierByte(bytes[index - 2]))
                copyQuoted(terminator: byte, backslashEscapes: escaped)
            case UInt8(ascii: "\""):
                copyQuoted(terminator: byte, backslashEscapes: false)
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") {
                    output.append(bytes[index])
                    index += 1
                }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                // Block comments nest.
                var depth = 0
                repeat {
                    if bytes[index] == UInt8(ascii: "/"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "*") {
                        depth += 1
                        output += [bytes[index], bytes[index + 1]]
                        index += 2
                    } else if bytes[index] == UInt8(ascii: "*"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "/") {
                        depth -= 1
                        output += [bytes[index], bytes[index + 1]]
                        index += 2
                    } else {
                        output.append(bytes[index])
                        index += 1
                    }
                } while depth > 0 && index < bytes.count
            case UInt8(ascii: "$") where !wordBefore:
                var end = index + 1
                while end < bytes.count, isDigit(bytes[end]) { end += 1 }
                if end > index + 1 {
                    let number = Int(String(decoding: bytes[(index + 1)..<end], as: UTF8.self)) ?? 0
                    precondition(
                        number >= 1 && number <= parameterCount,
                        "a fragment's placeholder $\(number) names none of its \(parameterCount) parameters")
                    output += Array("$\(number + offset)".utf8)
                    index = end
                } else if let tagEnd = dollarQuoteTagEnd(bytes, from: index) {
                    // A dollar-quoted constant: copied whole, up to the same `$tag$` (or the end of the text).
                    let tag = Array(bytes[index...tagEnd])
                    output += tag
                    index = tagEnd + 1
                    while index < bytes.count {
                        if bytes[index] == UInt8(ascii: "$"), index + tag.count <= bytes.count,
                            Array(bytes[index..<(index + tag.count)]) == tag
                        {
                            output += tag
                            index += tag.count
                            break
                        }
                        output.append(bytes[index])
                        index += 1
                    }
                } else {
                    output.append(byte)
                    index += 1
                    inWord = true
                }
            default:
                output.append(byte)
                index += 1
                inWord = isIdentifierByte(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The index of the closing `$` of a dollar-quote tag (`$$` or `$tag$`) starting at `start`, or `nil`.
    private static func dollarQuoteTagEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "$") { return index }
        guard isIdentifierByte(bytes[index]), !isDigit(bytes[index]) else { return nil }
        while index < bytes.count, isIdentifierByte(bytes[index]), bytes[index] != UInt8(ascii: "$") { index += 1 }
        return index < bytes.count && bytes[index] == UInt8(ascii: "$") ? index : nil
    }

    /// Whether the byte can continue an identifier: a letter, a digit, `_`, `$` or any byte of a non-ASCII character.
    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            return true
        default:
            return false
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
