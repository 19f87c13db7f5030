import Domain
import Foundation
import Ingestion

/// How page and screen calls become HubSpot custom behavioral events (`page_views:` in the mapping file; issue 9).
/// Off by default: custom events need HubSpot Enterprise. Independent of `behavioral_events.enabled`.
public struct PageViewRules: Sendable, Equatable {
    /// What one kind of call (page or screen) becomes.
    public enum Mode: Sendable, Equatable {
        /// Nothing is sent (the default).
        case off
        /// One event per page or screen name: `pe<portal>_page_<name>` / `pe<portal>_screen_<name>`.
        case perName
        /// Every call is this one event (short name, without `pe<portal>_`), with the name and URL as properties.
        case fixed(eventName: String)
    }

    /// Page calls; default `.off`.
    public var pages: Mode
    /// Screen calls; default `.off`.
    public var screens: Mode

    /// The page properties sent with each event, besides `name`.
    static let pageProperties = ["url", "path", "title", "referrer", "search"]

    /// Both off.
    public static let defaults = PageViewRules()

    /// Page view rules; both off by default.
    public init(pages: Mode = .off, screens: Mode = .off) {
        self.pages = pages
        self.screens = screens
    }

    /// The behavioral event for a page/screen call (type `page` or `screen`), or `nil` when off (or another type).
    ///
    /// perName: `pe<portal>_page_<name>` / `pe<portal>_screen_<name>`, the name converted as event names are
    /// (`Pricing Plans` → `page_pricing_plans`; no name → `page_unnamed`); fixed: that event. Both send the plain values
    /// among `name` (the call's name, else `properties.name`), `url`, `path`, `title`, `referrer` and `search`.
    public func event(type: String, name: String?, properties: [String: JSONValue], portalID: String) -> BehavioralEvent? {
        let mode: Mode
        switch type {
        case "page": mode = pages
        case "screen": mode = screens
        default: return nil
        }
        let pageName = name.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            ?? properties["name"]?.scalarText.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        let eventName: String
        switch mode {
        case .off: return nil
        case .perName: eventName = "\(type)_\(pageName.map { EventNaming.defaultName($0, fallback: "n") } ?? "unnamed")"
        case .fixed(let fixed): eventName = fixed
        }
        var sourced: [(property: String, source: String, value: JSONValue)] = []
        if let pageName { sourced.append(("name", "name", .string(pageName))) }
        for key in Self.pageProperties {
            if let value = properties[key] { sourced.append((key, key, value)) }
        }
        return EventNaming.event("pe\(portalID)_\(eventName)", from: sourced)
    }
}

// MARK: - Reading the mapping file

extension PageViewRules {
    static let keys = ["pages", "screens"]

    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        if let mode = object["pages"] { pages = try Mode(reading: mode) }
        if let mode = object["screens"] { screens = try Mode(reading: mode) }
    }

    var canonical: JSONValue {
        .object(["pages": pages.canonical, "screens": screens.canonical])
    }
}

extension PageViewRules.Mode {
    /// Reads `off` (YAML's `off`/`false` too), `per_name`, or `{ fixed: page_viewed }`.
    init(reading value: MappingValue) throws(MappingError) {
        let hint = "off, per_name, or { fixed: event_name }"
        switch value.node.kind {
        case .mapping:
            let object = try value.object(keys: ["fixed"], hint: hint)
            let nameValue = try object.required("fixed", "the HubSpot event name, e.g. { fixed: page_viewed }")
            let name = try nameValue.nonBlankString("a HubSpot event name")
            guard Names.isValidHubSpotName(name) else { throw nameValue.error(Names.hubSpotNameProblem(name)) }
            self = .fixed(eventName: name)
        case .scalar(let scalar):
            if case .bool(false) = scalar.resolved { self = .off; return }
            if case .bool(true) = scalar.resolved { throw value.error("expected \(hint); 'on' is ambiguous here, write per_name") }
            self = try value.choice(["off", "per_name"]) == "off" ? .off : .perName
        case .sequence:
            throw value.error("expected \(hint), found a list")
        }
    }

    var canonical: JSONValue {
        switch self {
        case .off: return .string("off")
        case .perName: return .string("per_name")
        case .fixed(let name): return .object(["fixed": .string(name)])
        }
    }
}
