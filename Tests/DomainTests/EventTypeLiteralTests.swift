import Domain
import Foundation
import Testing

/// No event type is spelled as text outside the Domain module: every type comes from `EventType` (in SQL, as a bind).
@Suite struct EventTypeLiteralTests {
    /// The repository's `Sources` folder.
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    @Test func noSourceOutsideDomainSpellsAnEventType() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil))
            .compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" && !$0.path.hasPrefix(Self.sources.appendingPathComponent("Domain").path + "/") }
        #expect(files.count > 50, "found the sources")
        var offences: [String] = []
        for file in files {
            let source = try String(contentsOf: file, encoding: .utf8)
            let path = file.path.replacingOccurrences(of: Self.sources.deletingLastPathComponent().path + "/", with: "")
            offences += EventTypeLiterals.offences(in: source).map { "\(path):\($0.line): \($0.text)" }
        }
        let offending = Set(offences.map { $0.prefix { $0 != ":" } }).count
        let message = "\(offending) file(s) spell event types; use EventType / EventType.Family (in SQL as a bind):\n"
            + offences.sorted().joined(separator: "\n")
        #expect(offences.isEmpty, Comment(rawValue: message))
    }

    @Test func theScanFindsTypesInStringsAndSQLButNotOtherDottedNames() {
        let source = #"""
            let a = "hubsignal.hubspot.contact_synced"
            let b = "hubspot.action.\(action)"
            let c = "\(EventType.hubSpotObjectSynced):\(record.position)"
            let d = Logger(label: "hubsignal.bench"); let e = "hubsignal.write_key_id"; let f = "hubsignal.yaml"
            // "segment.identify" in a comment is prose
            /* "segment.track" */
            let g: PQQuery = """
                SELECT 1 FROM events WHERE type = 'segment.alias' AND stream LIKE 'user:%'
                  AND type LIKE 'hubspot.webhook.contact.%' AND x = \(payload["a"] ?? "onesignal.message.push.sent")
                """
            let h = #"{"type":"hubsignal.erasure"}"#
            let i = "DELETE FROM events WHERE type <> 'hubsignal.replay_requested'"
            """#
        let found = EventTypeLiterals.offences(in: source)
        #expect(
            found.map(\.text) == [
                "hubsignal.hubspot.contact_synced", "hubspot.action.…", "segment.alias", "hubspot.webhook.contact.%",
                "onesignal.message.push.sent", "hubsignal.erasure", "hubsignal.replay_requested",
            ])
        #expect(found.map(\.line) == [1, 2, 8, 9, 9, 11, 12])
    }
}

/// Finds string literals (and `'…'` and `"…"` inside them: SQL and JSON text) that spell an event type: a fixed
/// type's raw value, or text starting with a family's prefix.
enum EventTypeLiterals {
    static let families: [EventType.Family] = [
        .segment, .hubSpotWebhook, .hubSpotContactWebhook, .hubSpotAction, .oneSignal, .oneSignalMessage, .hubSpotResult, .oneSignalResult,
    ]
    static let fixed: Set<String> = Set(
        (EventType.segmentCalls + EventType.hubSignalTypes + [
            .hubSpotContactPropertyChange, .hubSpotContactMerge, .hubSpotContactDeletion, .hubSpotContactPrivacyDeletion,
            .sendNotification, .editTags,
        ]).map(\.rawValue))

    /// Whether `text` (an interpolation shown as `…`) spells an event type.
    static func spellsType(_ text: String) -> Bool {
        fixed.contains(text) || families.contains { text.hasPrefix($0.prefix) }
    }

    static func offences(in source: String) -> [(line: Int, text: String)] {
        var offences: [(line: Int, text: String)] = []
        for literal in SwiftLiterals(source).all() {
            if spellsType(literal.text) { offences.append((literal.line, literal.text)) }
            // SQL and JSON text: each '…' and "…" inside.
            for delimiter in ["'", "\""] as [Character] {
                var line = literal.line
                var quoted: String?
                for character in literal.text {
                    if character == "\n" { line += 1 }
                    if character == delimiter {
                        if let text = quoted, spellsType(text) { offences.append((line, text)) }
                        quoted = quoted == nil ? "" : nil
                    } else if quoted != nil {
                        quoted!.append(character)
                    }
                }
            }
        }
        return offences.sorted { ($0.line, $0.text) < ($1.line, $1.text) }
    }
}

/// A small lexer for Swift source: the text of every string literal with its first line, interpolations replaced by
/// `…` (string literals inside interpolations are listed too). Comments are skipped.
struct SwiftLiterals {
    private let characters: [Character]
    private var index = 0
    private var line = 1
    private var found: [(line: Int, text: String)] = []

    init(_ source: String) { characters = Array(source) }

    func all() -> [(line: Int, text: String)] {
        var lexer = self
        lexer.code(untilClosingParenthesis: false)
        return lexer.found.sorted { $0.line < $1.line }
    }

    private func peek(_ offset: Int = 0) -> Character? {
        index + offset < characters.count ? characters[index + offset] : nil
    }

    private mutating func advance() {
        if characters[index] == "\n" { line += 1 }
        index += 1
    }

    private func starts(with text: String) -> Bool {
        var offset = 0
        for character in text {
            guard peek(offset) == character else { return false }
            offset += 1
        }
        return true
    }

    /// Code up to the end, or to the `)` closing an interpolation.
    private mutating func code(untilClosingParenthesis: Bool) {
        var depth = 0
        while let character = peek() {
            if starts(with: "//") {
                while let next = peek(), next != "\n" { advance() }
            } else if starts(with: "/*") {
                while peek() != nil, !starts(with: "*/") { advance() }
                if peek() != nil { advance(); advance() }
            } else if character == "#" || character == "\"" {
                var hashes = 0
                while peek(hashes) == "#" { hashes += 1 }
                if peek(hashes) == "\"" {
                    for _ in 0..<hashes { advance() }
                    literal(hashes: hashes)
                } else {
                    advance()
                }
            } else if character == "(" {
                depth += 1
                advance()
            } else if character == ")" {
                if depth == 0 && untilClosingParenthesis {
                    advance()
                    return
                }
                depth -= 1
                advance()
            } else {
                advance()
            }
        }
    }

    /// A literal starting at its opening quote(s), after `hashes` `#`s.
    private mutating func literal(hashes: Int) {
        let startLine = line
        let multiline = starts(with: "\"\"\"")
        let quote = multiline ? "\"\"\"" : "\""
        for _ in quote { advance() }
        let closing = quote + String(repeating: "#", count: hashes)
        let escape = "\\" + String(repeating: "#", count: hashes)
        var text = ""
        while peek() != nil {
            if starts(with: closing) {
                for _ in closing { advance() }
                break
            }
            if !multiline && peek() == "\n" { break }
            if starts(with: escape) {
                for _ in escape { advance() }
                if peek() == "(" {
                    advance()
                    text += "…"
                    code(untilClosingParenthesis: true)
                } else if let escaped = peek() {
                    text.append(escaped)
                    advance()
                }
                continue
            }
            text.append(characters[index])
            advance()
        }
        found.append((startLine, text))
    }
}
