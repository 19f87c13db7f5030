import Domain
import Ingestion

/// Which OneSignal apps receive a contact's tags (issue 9: one OneSignal app per brand or platform).
///
/// App names are the names of the configured OneSignal apps; names the configuration does not have are ignored. In
/// `byTrait` and `byWriteKey` the key `*` matches every value without its own entry.
public enum AppRouting: Sendable, Equatable {
    /// Every configured app (the default).
    case all
    /// By the value of a trait: trait value → app names.
    case byTrait(trait: String, apps: [String: [String]])
    /// By the write key that sent the events: write key *id* (`wk_…`, never the key itself) → app names.
    case byWriteKey([String: [String]])

    /// The app names that receive tags for a contact with these traits, sent through this write key id; `configured` is
    /// the list of configured app names. The result keeps `configured`'s order and holds only configured names; it is
    /// empty when no rule matches.
    public func apps(traits: [String: JSONValue], writeKeyID: String?, configured: [String]) -> [String] {
        let chosen: [String]
        switch self {
        case .all:
            return configured
        case .byTrait(let trait, let apps):
            let value = traits[trait]?.scalarText
            chosen = value.flatMap { apps[$0] } ?? apps["*"] ?? []
        case .byWriteKey(let apps):
            chosen = writeKeyID.flatMap { apps[$0] } ?? apps["*"] ?? []
        }
        return configured.filter(chosen.contains)
    }
}

// MARK: - Reading the mapping file

extension AppRouting {
    init(reading value: MappingValue) throws(MappingError) {
        let hint = "all, { by_trait: { trait: brand, apps: { acme: [acme-ios] } } } or { by_write_key: { wk_…: [app] } }"
        guard case .mapping = value.node.kind else {
            guard try value.choice(["all"]) == "all" else { throw value.error("expected \(hint)") }
            self = .all
            return
        }
        let object = try value.object(keys: ["by_trait", "by_write_key"], hint: hint)
        switch (object["by_trait"], object["by_write_key"]) {
        case (let byTrait?, nil):
            let rule = try byTrait.object(keys: ["trait", "apps"])
            let trait = try rule.required("trait", "the trait whose value picks the apps, e.g. trait: brand")
                .nonBlankString("a trait key")
            let apps = try Self.readAppLists(try rule.required("apps", "trait value → app names, e.g. apps: { acme: [acme-ios] }"))
            self = .byTrait(trait: trait, apps: apps)
        case (nil, let byWriteKey?):
            let apps = try Self.readAppLists(byWriteKey)
            for (key, keyValue) in try byWriteKey.entries("write key ids → app names") where key != "*" {
                guard key.hasPrefix("wk_") else {
                    throw keyValue.error(
                        "'\(key)' is not a write key id; write the key's id (wk_ and 12 hex digits, as the logs and events "
                            + "show it), never the key itself")
                }
            }
            self = .byWriteKey(apps)
        case (nil, nil):
            throw value.error("expected one of by_trait or by_write_key")
        case (_?, _?):
            throw value.error("by_trait and by_write_key cannot be combined; choose one")
        }
    }

    private static func readAppLists(_ value: MappingValue) throws(MappingError) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for (key, apps) in try value.entries("a mapping of values to lists of app names") {
            result[key] = try apps.stringList("app names")
        }
        return result
    }

    var canonical: JSONValue {
        func lists(_ apps: [String: [String]]) -> JSONValue {
            .object(apps.mapValues { .array($0.sorted().map(JSONValue.string)) })
        }
        switch self {
        case .all: return .string("all")
        case .byTrait(let trait, let apps): return .object(["by_trait": .object(["trait": .string(trait), "apps": lists(apps)])])
        case .byWriteKey(let apps): return .object(["by_write_key": lists(apps)])
        }
    }
}
