import Domain
import Ingestion

/// Which HubSpot contact properties, changed in HubSpot, become OneSignal tags (`hubspot_to_onesignal:` in the mapping file).
public struct HubSpotToOneSignalRules: Sendable, Equatable {
    /// HubSpot contact property → OneSignal tag name (default empty).
    public var properties: [String: String]

    /// Nothing flows from HubSpot to OneSignal.
    public static let defaults = HubSpotToOneSignalRules()

    /// HubSpot property → tag rules; none by default.
    public init(properties: [String: String] = [:]) {
        self.properties = properties
    }
}

// MARK: - Reading the mapping file

extension HubSpotToOneSignalRules {
    static let keys = ["properties"]

    /// Reads `{ properties: { lifecyclestage: lifecycle_stage } }`; a list of property names keeps each name as the tag.
    init(reading value: MappingValue) throws(MappingError) {
        let object = try value.object(keys: Self.keys)
        self.init()
        guard let propertiesValue = object["properties"] else { return }
        var pairs: [(property: String, tag: String, at: MappingValue)] = []
        if case .sequence = propertiesValue.node.kind {
            for item in try propertiesValue.list("a list of HubSpot property names") {
                let name = try item.nonBlankString("a HubSpot property name")
                pairs.append((name, name, item))
            }
        } else {
            for (property, tagValue) in try propertiesValue.entries("a mapping of HubSpot properties to tag names") {
                pairs.append((property, try tagValue.nonBlankString("a OneSignal tag name"), tagValue))
            }
        }
        for (property, tag, at) in pairs {
            guard Names.isValidHubSpotName(property) else {
                throw MappingError(file: at.file, path: at.path, message: Names.hubSpotNameProblem(property), line: at.node.line)
            }
            if let problem = Names.tagNameProblem(tag) { throw at.error(problem) }
            properties[property] = tag
        }
    }

    var canonical: JSONValue {
        .object(["properties": .object(properties.mapValues(JSONValue.string))])
    }
}

extension Mapping {
    /// The HubSpot contact properties whose changes HubSignal reads (its webhook subscriptions): the
    /// `hubspot_to_onesignal` properties and `onesignal.external_id_property`, sorted (`email` is always subscribed).
    public var subscribedContactProperties: [String] {
        Set(Array(hubSpotToOneSignal.properties.keys) + [oneSignal.externalIDProperty].compactMap { $0 }).sorted()
    }
}
