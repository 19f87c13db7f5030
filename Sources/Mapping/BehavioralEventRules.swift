import Domain
import Foundation
import Ingestion

/// How track calls become HubSpot custom behavioral events (`behavioral_events:` in the mapping file). Custom events
/// need HubSpot Enterprise, so they are off by default.
public struct BehavioralEventRules: Sendable, Equatable {
    /// Whether track events are sent; default false (needs HubSpot Enterprise).
    public var enabled: Bool
    /// Segment event name → rule; empty = every track event with the default naming.
    public var events: [String: EventRule]
    /// Whether events without a rule are sent (default naming); default true when `events` is empty, else false.
    public var sendUnlisted: Bool
    /// Where an event's own email is read, first present wins (`email_from`): by default `properties.email`, then
    /// `context.traits.email`, as Segment's HubSpot Cloud Mode (Actions) does, so a server-side track call without
    /// traits still names its contact.
    public var emailFrom: [String]
    /// Where an event's HubSpot user token is read, first present wins (`utk_from`): by default `context.hubspotutk`,
    /// then `properties.hubspotutk` (a page copies the `hubspotutk` cookie there).
    public var utkFrom: [String]

    /// The default `email_from` paths.
    public static let defaultEmailFrom = ["properties.email", "context.traits.email"]
    /// The default `utk_from` paths.
    public static let defaultUTKFrom = ["context.hubspotutk", "properties.hubspotutk"]

    /// HubSpot's limit on properties per event occurrence.
    public static let propertyLimit = 50

    /// Off; when enabled, every track event with the default naming.
    public static let defaults = BehavioralEventRules()

    /// Behavioral event rules; `sendUnlisted` defaults to whether `events` is empty.
    public init(
        enabled: Bool = false, events: [String: EventRule] = [:], sendUnlisted: Bool? = nil,
        emailFrom: [String] = Self.defaultEmailFrom, utkFrom: [String] = Self.defaultUTKFrom
    ) {
        self.enabled = enabled
        self.events = events
        self.sendUnlisted = sendUnlisted ?? events.isEmpty
        self.emailFrom = emailFrom
        self.utkFrom = utkFrom
    }

    /// How a Segment call names its HubSpot contact: the first email found along `emailFrom` (trimmed, lower-cased;
    /// a value without `@` is skipped) and the first user token along `utkFrom` (trimmed). Either may be `nil`.
    public func identification(of message: [String: JSONValue]) -> (email: String?, utk: String?) {
        let root = JSONValue.object(message)
        func first(_ paths: [String], _ accept: (String) -> Bool) -> String? {
            for path in paths {
                guard let text = root.value(atPath: path)?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines),
                    !text.isEmpty, accept(text)
                else { continue }
                return text
            }
            return nil
        }
        return (first(emailFrom) { $0.contains("@") }?.lowercased(), first(utkFrom) { _ in true })
    }

    /// The HubSpot custom event for a track call, or `nil` when not sent (disabled, or unlisted with `sendUnlisted` false).
    ///
    /// Name: the rule's `name` or the default conversion of the event name (lower-case, every run of non-alphanumerics
    /// → one `_`, none at the ends, `event_` before a leading digit: `Order Completed` → `order_completed`), as
    /// `pe<portalID>_<name>`. Properties: a rule with `properties` sends exactly those (source key or dotted path →
    /// HubSpot name); otherwise every property under its default name (the same conversion). Only plain values are
    /// sent (nested objects and lists are reported in `dropped`; null and blank are left out); at most 50, the first in
    /// sorted order of HubSpot name, the rest reported. `portalID` comes from config (`HUBSPOT_PORTAL_ID`).
    public func event(named name: String, properties: [String: JSONValue], portalID: String) -> BehavioralEvent? {
        guard enabled else { return nil }
        let rule = events[name]
        guard rule != nil || sendUnlisted else { return nil }
        let eventName = rule?.name ?? EventNaming.defaultName(name)

        var sourced: [(property: String, source: String, value: JSONValue)] = []
        if let rule, !rule.properties.isEmpty {
            for (source, property) in rule.properties {
                guard let value = JSONValue.object(properties).value(atPath: source) else { continue }
                sourced.append((property, source, value))
            }
        } else {
            for (source, value) in properties {
                sourced.append((EventNaming.defaultName(source, fallback: "p"), source, value))
            }
        }
        return EventNaming.event("pe\(portalID)_\(eventName)", from: sourced)
    }
}

/// How one Segment track event becomes a HubSpot custom event.
public struct EventRule: Sendable, Equatable {
    /// The HubSpot event's short name (without `pe<portal>_`); `nil` = the default conversion of the Segment name.
    public var name: String?
    /// Segment property (key or dotted path) → HubSpot event property; empty = every property under its default name.
    public var properties: [String: String]

    /// A rule; without arguments, the default naming for name and properties.
    public init(name: String? = nil, properties: [String: String] = [:]) {
        self.name = name
        self.properties = properties
    }
}

/// A HubSpot custom behavioral event occurrence to send.
public struct BehavioralEvent: Sendable, Equatable {
    /// The fully qualified name, `pe<portalID>_<name>`.
    public var eventName: String
    /// HubSpot property name → value as text.
    public var properties: [String: String]
    /// Source keys left out: nested values, invalid names, over the 50-property limit (sorted).
    public var dropped: [String]

    /// An event occurrence with its fully qualified name.
    public init(eventName: String, properties: [String: String], dropped: [String] = []) {
        self.eventName = eventName
        self.properties = properties
        self.dropped = dropped
    }
}

enum EventNaming {
    /// Lower-case, non-alphanumeric runs → `_`, trimmed; `event_` (or `fallback_`) before a leading digit; `fallback`
    /// when nothing is left.
    static func defaultName(_ name: String, fallback: String = "event") -> String {
        let slug = Names.slug(name, fallback: fallback)
        return slug.isEmpty ? fallback : slug
    }

    /// Builds an event from (HubSpot property, source key, value) triples: plain values only, valid names, at most 50.
    static func event(_ eventName: String, from sourced: [(property: String, source: String, value: JSONValue)]) -> BehavioralEvent {
        var properties: [String: String] = [:]
        var sources: [String: String] = [:]
        var dropped: [String] = []
        for (property, source, value) in sourced.sorted(by: { ($0.property, $0.source) < ($1.property, $1.source) }) {
            if value.isNullOrBlank { continue }
            guard let text = value.scalarText, Names.isValidHubSpotName(property), property.count <= 50,
                sources[property] == nil
            else {
                dropped.append(source)
                continue
            }
            properties[property] = text
            sources[property] = source
        }
        for property in properties.keys.sorted().dropFirst(BehavioralEventRules.propertyLimit) {
            properties.removeValue(forKey: property)
            dropped.append(sources[property]!)
        }
        return BehavioralEvent(eventName: eventName, properties: properties, dropped: dropped.sorted())
    }
}

// MARK: - Reading the mapping file

extension BehavioralEventRules {
    static let keys = ["enabled", "events", "send_unlisted", "email_from", "utk_from"]

    /// Reads a list of dotted paths into a Segment call (`properties.email`), or one path.
    private static func paths(_ value: MappingValue) throws(MappingError) -> [String] {
        let items: [MappingValue]
        if case .sequence = value.node.kind { items = try value.list("a list of paths such as properties.email") } else { items = [value] }
        return try items.map { item throws(MappingError) in
            let path = try item.nonBlankString("a path such as properties.email")
            guard let root = path.split(separator: ".").first, ["properties", "context", "traits"].contains(String(root)) else {
                throw item.error("'\(path)' is not a path into the call: start it with properties., context. or traits.")
            }
            return path
        }
    }

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        var events: [String: EventRule] = [:]
        if let eventsValue = object["events"] {
            for (segmentName, ruleValue) in try eventsValue.entries("a mapping of Segment event names to rules") {
                guard !segmentName.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ruleValue.error("the Segment event name cannot be blank")
                }
                events[segmentName] = try EventRule(reading: ruleValue)
            }
        }
        self.init(
            enabled: try object["enabled"]?.bool() ?? false, events: events,
            sendUnlisted: try object["send_unlisted"]?.bool(),
            emailFrom: try object["email_from"].map(Self.paths) ?? Self.defaultEmailFrom,
            utkFrom: try object["utk_from"].map(Self.paths) ?? Self.defaultUTKFrom)
    }

    var canonical: JSONValue {
        .object([
            "enabled": .bool(enabled), "send_unlisted": .bool(sendUnlisted),
            "email_from": .array(emailFrom.map(JSONValue.string)), "utk_from": .array(utkFrom.map(JSONValue.string)),
            "events": .object(events.mapValues { rule in
                .object([
                    "name": rule.name.map(JSONValue.string) ?? .null,
                    "properties": .object(rule.properties.mapValues(JSONValue.string)),
                ])
            }),
        ])
    }
}

extension EventRule {
    /// Reads `{ name: order_completed, properties: { revenue: amount } }`, a bare name, or nothing (default naming).
    init(reading value: MappingValue) throws(MappingError) {
        self.init()
        if value.isNull { return }
        var nameValue: MappingValue?
        if case .mapping = value.node.kind {
            let object = try value.object(keys: ["name", "properties"])
            nameValue = object["name"]
            if let propertiesValue = object["properties"] {
                let entries = try propertiesValue.entries("a mapping of Segment properties to HubSpot event property names")
                guard entries.count <= BehavioralEventRules.propertyLimit else {
                    throw propertiesValue.error(
                        "\(entries.count) properties; HubSpot takes at most \(BehavioralEventRules.propertyLimit) per event")
                }
                for (source, target) in entries {
                    let property = try target.nonBlankString("a HubSpot event property name")
                    guard Names.isValidHubSpotName(property) else { throw target.error(Names.hubSpotNameProblem(property)) }
                    guard property.count <= 50 else {
                        throw target.error("'\(property)' is longer than HubSpot's 50 characters for event property names")
                    }
                    properties[source] = property
                }
            }
        } else {
            nameValue = value
        }
        if let nameValue {
            let eventName = try nameValue.nonBlankString("a HubSpot event name")
            guard Names.isValidHubSpotName(eventName) else { throw nameValue.error(Names.hubSpotNameProblem(eventName)) }
            name = eventName
        }
    }
}

// MARK: - Property types

extension BehavioralEventRules {
    /// The HubSpot type of a behavioral event property HubSignal defines, from the values it carries (as text, the
    /// way occurrences send them): `number` when every value is a plain decimal (`-12`, `3.5`; no leading zero such as
    /// a postcode's `02139`, no exponent, at most 15 digits, so ids and phone numbers stay text), `bool` when every
    /// value is `true` or `false`, `datetime` when every value is an ISO 8601 date and time with a zone
    /// (`2026-12-06T10:00:00Z`), else `string`. The client sends `bool` as an `enumeration` of `true` and `false`
    /// (EVDEF-v3 names no boolean event property type).
    ///
    /// A definition's types are fixed once created: a later value that does not suit its property's type is refused
    /// by HubSpot, and that occurrence becomes a dead letter with HubSpot's reason.
    public static func propertyType(of values: some Sequence<String>) -> String {
        var candidates: Set<String> = ["number", "bool", "datetime"]
        var sawValue = false
        for value in values {
            sawValue = true
            if candidates.contains("number") && !isPlainNumber(value) { candidates.remove("number") }
            if candidates.contains("bool") && value != "true" && value != "false" { candidates.remove("bool") }
            if candidates.contains("datetime") && !isDateTime(value) { candidates.remove("datetime") }
            if candidates.isEmpty { return "string" }
        }
        guard sawValue else { return "string" }
        for type in ["number", "bool", "datetime"] where candidates.contains(type) { return type }
        return "string"
    }

    static func isPlainNumber(_ text: String) -> Bool {
        var digits = text.hasPrefix("-") ? Substring(text.dropFirst()) : Substring(text)
        var fraction: Substring = ""
        if let dot = digits.firstIndex(of: ".") {
            fraction = digits[digits.index(after: dot)...]
            digits = digits[..<dot]
            guard !fraction.isEmpty, fraction.allSatisfy(\.isASCIIDigit) else { return false }
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), digits == "0" || !digits.hasPrefix("0") else { return false }
        return digits.count + fraction.count <= 15
    }

    static func isDateTime(_ text: String) -> Bool {
        let characters = Array(text)
        func digits(_ range: Range<Int>) -> Bool { range.upperBound <= characters.count && characters[range].allSatisfy(\.isASCIIDigit) }
        // yyyy-MM-ddTHH:mm
        guard characters.count >= 17, digits(0..<4), characters[4] == "-", digits(5..<7), characters[7] == "-", digits(8..<10),
            characters[10] == "T", digits(11..<13), characters[13] == ":", digits(14..<16)
        else { return false }
        var index = 16
        if index < characters.count, characters[index] == ":" {
            guard digits(index + 1..<index + 3) else { return false }
            index += 3
            if index < characters.count, characters[index] == "." {
                index += 1
                let start = index
                while index < characters.count, characters[index].isASCIIDigit { index += 1 }
                guard index > start else { return false }
            }
        }
        let zone = String(characters[index...])
        if zone == "Z" { return true }
        let zoneCharacters = Array(zone)
        guard zoneCharacters.count == 6, zoneCharacters[0] == "+" || zoneCharacters[0] == "-", zoneCharacters[3] == ":" else { return false }
        return [1, 2, 4, 5].allSatisfy { zoneCharacters[$0].isASCIIDigit }
    }
}
