import Foundation

/// Naming rules shared by the sections: what HubSpot accepts as a property or event name, and the default conversions.
enum Names {
    /// HubSpot internal names: lower-case ASCII letters, digits and underscores, starting with a letter.
    static func isValidHubSpotName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// Why `name` is not a HubSpot name, with the name it could be.
    static func hubSpotNameProblem(_ name: String) -> String {
        let suggestion = slug(name)
        let instead = suggestion.isEmpty || suggestion == name ? "" : " such as '\(suggestion)'"
        return "'\(name)' is not a HubSpot internal name; use lower-case letters, digits and underscores, starting with a letter\(instead)"
    }

    /// Lower-case, every run of characters other than `a-z0-9` → one `_`, no `_` at either end; a leading digit gets
    /// `fallback_` in front. Empty when nothing usable is left.
    static func slug(_ text: String, fallback: String = "x") -> String {
        var result = ""
        var pendingUnderscore = false
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                if pendingUnderscore, !result.isEmpty { result.append("_") }
                pendingUnderscore = false
                result.unicodeScalars.append(scalar)
            } else {
                pendingUnderscore = true
            }
        }
        if let first = result.unicodeScalars.first, ("0"..."9").contains(first) { result = "\(fallback)_\(result)" }
        return result
    }

    /// Segment's HubSpot conversion of a top-level trait key: lower-cased, spaces → underscores (`Favorite Color` →
    /// `favorite_color`).
    static func segmentDefault(_ key: String) -> String {
        // Most keys are already lower-case ASCII without spaces: return them without allocating.
        if key.utf8.allSatisfy({ !(65...90).contains($0) && $0 != 32 && $0 < 128 }) { return key }
        return String(key.lowercased().map { $0 == " " ? "_" : $0 })
    }

    /// Whether `text` is empty or only whitespace (checked without Foundation's character sets, on hot paths).
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(\.properties.isWhitespace)
    }

    /// Whether `key`, or the last component of a dotted path, is `name` in any case (`name` lower-case ASCII).
    static func lastComponent(of key: String, is name: String) -> Bool {
        let utf8 = key.utf8
        guard utf8.count >= name.utf8.count else { return false }
        let tail = utf8.suffix(name.utf8.count)
        guard zip(tail, name.utf8).allSatisfy({ ($0 | 0x20) == $1 }) else { return false }
        let start = tail.startIndex
        return start == utf8.startIndex || utf8[utf8.index(before: start)] == UInt8(ascii: ".")
    }

    /// OneSignal's reserved tag names (personalization namespaces); tags with these names are refused.
    static let reservedTagNames: Set<String> = [
        "message", "notification", "subscription", "user", "template", "app", "org", "dynamic_content", "data_feed",
        "journey", "custom_data",
    ]

    /// Why `tag` cannot be a OneSignal tag name, or `nil` when it can.
    static func tagNameProblem(_ tag: String) -> String? {
        if isBlank(tag) { return "a tag name cannot be blank" }
        if tag.utf8.count <= 15, reservedTagNames.contains(tag.lowercased()) {
            return "'\(tag)' is reserved by OneSignal (\(reservedTagNames.sorted().joined(separator: ", "))); choose another tag name"
        }
        return nil
    }
}
