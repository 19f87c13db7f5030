import Crypto
import Domain
import Foundation
import Ingestion

/// How Segment events become HubSpot and OneSignal data: the mapping file (`HUBSIGNAL_MAPPING`, default
/// `hubsignal.yaml`), parsed and validated.
///
/// Every section is optional; an empty file (or none, see `loadIfPresent(contentsOf:)`) means `Mapping.defaults`.
public struct Mapping: Sendable, Equatable {
    /// First 16 hex chars of SHA-256 over a canonical encoding of the *parsed* mapping (comments/whitespace/key order don't change it).
    ///
    /// The encoding covers every rule with its defaults filled in, so writing out a default value does not change the
    /// version either. Computed when the mapping is parsed or initialised; changing a section of a copy afterwards does
    /// not update it (build a new `Mapping` with `init` instead).
    public let version: String
    /// Segment traits → HubSpot contact properties.
    public var contacts: ContactRules
    /// Contacts → OneSignal users and tags.
    public var oneSignal: OneSignalRules
    /// Track events → HubSpot custom behavioral events.
    public var behavioralEvents: BehavioralEventRules
    /// Page/screen → behavioral events (issue 9), off by default.
    public var pageViews: PageViewRules
    /// Group calls → HubSpot companies.
    public var companies: CompanyRules
    /// Messages → HubSpot custom object records.
    public var customObjects: [CustomObjectRule]
    /// Audience membership → HubSpot properties and OneSignal tags.
    public var audiences: AudienceRules
    /// HubSpot contact property changes → OneSignal tags.
    public var hubSpotToOneSignal: HubSpotToOneSignalRules
    /// OneSignal message events → the HubSpot contact's timeline.
    public var timeline: TimelineRules
    /// The configured OneSignal apps (from the configuration, not the file; see `targeting(oneSignalApps:)`); one app
    /// named `default` unless configured.
    public internal(set) var oneSignalApps: [OneSignalAppTarget]

    /// The mapping file format this code reads (`version: 1` in the file).
    public static let formatVersion = 1

    /// What an empty file means.
    public static let defaults = Mapping()

    /// A mapping from its sections; `version` is computed from them.
    public init(
        contacts: ContactRules = .defaults, oneSignal: OneSignalRules = .defaults,
        behavioralEvents: BehavioralEventRules = .defaults, pageViews: PageViewRules = .defaults,
        companies: CompanyRules = .defaults, customObjects: [CustomObjectRule] = [], audiences: AudienceRules = .defaults,
        hubSpotToOneSignal: HubSpotToOneSignalRules = .defaults, timeline: TimelineRules = .defaults,
        oneSignalApps: [OneSignalAppTarget] = [.default]
    ) {
        self.contacts = contacts
        self.oneSignal = oneSignal
        self.behavioralEvents = behavioralEvents
        self.pageViews = pageViews
        self.companies = companies
        self.customObjects = customObjects
        self.audiences = audiences
        self.hubSpotToOneSignal = hubSpotToOneSignal
        self.timeline = timeline
        self.oneSignalApps = oneSignalApps
        let canonical: JSONValue = .object([
            "format": .int(Int64(Self.formatVersion)),
            "contacts": contacts.canonical, "onesignal": oneSignal.canonical,
            "behavioral_events": behavioralEvents.canonical, "page_views": pageViews.canonical,
            "companies": companies.canonical, "custom_objects": .array(customObjects.map(\.canonical)),
            "audiences": audiences.canonical, "hubspot_to_onesignal": hubSpotToOneSignal.canonical,
            "hubspot_timeline": timeline.canonical, "onesignal_apps": .array(oneSignalApps.map(\.canonical)),
        ])
        let digest = SHA256.hash(data: Array(CanonicalJSON.text(canonical).utf8))
        version = String(digest.map { String(format: "%02x", $0) }.joined().prefix(16))
    }

    /// Reads and validates the mapping file at `path`.
    ///
    /// - Throws: `MappingError` when the file is missing or unreadable, is not YAML, or does not validate.
    public static func load(contentsOf path: String) throws(MappingError) -> Mapping {
        guard FileManager.default.fileExists(atPath: path) else {
            throw MappingError(
                file: path, path: "",
                message: "no such mapping file; create it (the repository's hubsignal.yaml is a commented example) or point HUBSIGNAL_MAPPING at it")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw MappingError(file: path, path: "", message: "cannot read the mapping file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MappingError(file: path, path: "", message: "the mapping file is not UTF-8 text; save it as UTF-8")
        }
        return try parse(text, file: path)
    }

    /// Like `load(contentsOf:)`, but a missing file means `Mapping.defaults` (the service works without a file).
    public static func loadIfPresent(contentsOf path: String) throws(MappingError) -> Mapping {
        guard FileManager.default.fileExists(atPath: path) else { return .defaults }
        return try load(contentsOf: path)
    }

    /// Parses and validates mapping YAML; `file` names it in errors.
    ///
    /// - Throws: `MappingError` naming the file, the line, the dotted key path and what to write instead.
    public static func parse(_ yaml: String, file: String = "<string>") throws(MappingError) -> Mapping {
        guard let root = try YAMLDocument.parse(yaml, file: file) else { return .defaults }
        let value = MappingValue(node: root, path: "", file: file)
        if value.isNull { return .defaults }
        let object = try value.object(keys: Self.keys, hint: "a mapping with the sections \(Self.keys.joined(separator: ", "))")
        if let formatValue = object["version"] {
            guard case .scalar(let scalar) = formatValue.node.kind, case .int(let format) = scalar.resolved,
                format == Self.formatVersion
            else {
                throw formatValue.error(
                    "unsupported mapping file format \(formatValue.kindDescription); this HubSignal reads version: \(Self.formatVersion)")
            }
        }
        var customObjects: [CustomObjectRule] = []
        if let rules = object["custom_objects"] {
            var names: Set<String> = []
            for item in try rules.list("a list of custom object rules") {
                let rule = try CustomObjectRule(reading: item)
                guard names.insert(rule.name).inserted else {
                    throw MappingError(
                        file: file, path: Path.child(item.path, "name"),
                        message: "another rule is already named '\(rule.name)'; rule names must be unique", line: item.node.line)
                }
                customObjects.append(rule)
            }
        }
        return Mapping(
            contacts: try object["contacts"].map(ContactRules.init(reading:)) ?? .defaults,
            oneSignal: try object["onesignal"].map(OneSignalRules.init(reading:)) ?? .defaults,
            behavioralEvents: try object["behavioral_events"].map(BehavioralEventRules.init(reading:)) ?? .defaults,
            pageViews: try object["page_views"].map(PageViewRules.init(reading:)) ?? .defaults,
            companies: try object["companies"].map(CompanyRules.init(reading:)) ?? .defaults,
            customObjects: customObjects,
            audiences: try object["audiences"].map(AudienceRules.init(reading:)) ?? .defaults,
            hubSpotToOneSignal: try object["hubspot_to_onesignal"].map(HubSpotToOneSignalRules.init(reading:)) ?? .defaults,
            timeline: try object["hubspot_timeline"].map(TimelineRules.init(reading:)) ?? .defaults)
    }

    static let keys = [
        "version", "contacts", "onesignal", "behavioral_events", "page_views", "companies", "custom_objects", "audiences",
        "hubspot_to_onesignal", "hubspot_timeline",
    ]
}

/// JSON text with object keys sorted, for hashing: the same value always gives the same bytes.
enum CanonicalJSON {
    static func text(_ value: JSONValue) -> String {
        var output = ""
        write(value, into: &output)
        return output
    }

    private static func write(_ value: JSONValue, into output: inout String) {
        switch value {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number): output += String(number)
        case .string(let text): writeString(text, into: &output)
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += "," }
                write(item, into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                writeString(key, into: &output)
                output += ":"
                write(members[key]!, into: &output)
            }
            output += "}"
        }
    }

    private static func writeString(_ text: String, into output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case _ where scalar.value < 0x20: output += String(format: "\\u%04x", scalar.value)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
